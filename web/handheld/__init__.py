"""The escorts' handheld pages: blueprint ``bp`` in web.handheld.views."""
