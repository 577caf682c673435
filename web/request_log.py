"""What the request log may say: the request line without its query string.

A search (``?q=<identity number>``), a lookup (``?card=``) or a sign-in redirect
(``?next=``) carries personal data in the query string (R20), so every access log line is
written with ``?…`` in its place. The filter sits on the loggers of the servers that write
access logs (werkzeug's development server, waitress) and on ``sitegate.access``.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGERS = ("werkzeug", "waitress", "sitegate.access")
# a query string inside a request line or URL: from "?" up to white space or a quote
_QUERY = re.compile(r"\?[^\s\"']*")


class RedactQuery(logging.Filter):
    """Replaces every query string in a log record's message by ``?…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = _QUERY.sub("?…", message), ()
        return True


def install() -> None:
    """Put the filter on the access loggers (once, however many apps are built)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQuery) for f in logger.filters):
            logger.addFilter(RedactQuery())
