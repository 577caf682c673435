"""The safety officers' web panel (issue part 3): blueprint ``bp`` in web.panel.views."""
