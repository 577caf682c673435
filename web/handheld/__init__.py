"""The escorts' handheld pages (issue part 4): blueprint ``bp`` in web.handheld.views."""
