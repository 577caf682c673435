"""The escorts' handheld pages: blueprint ``bp`` in web.handheld.views."""

from web.handheld import forms  # noqa: E402,F401  (registers the approvers' pages on views.bp)
