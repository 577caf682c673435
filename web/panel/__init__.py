"""The safety officers' web panel: blueprint ``bp`` in web.panel.views."""
