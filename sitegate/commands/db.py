"""``sitegate db upgrade`` (migrate the configured database to the current schema) and
``sitegate db purge-notifications`` (delete notification cards past retention, R7)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from sitegate.options import config_option
from sitegate.wiring import load_or_exit, open_database
from zones.db import current_revision, session_factory


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone offset, e.g. 2026-09-01T00:00:00+08:00")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    sub.add_parser("upgrade", parents=[config_option()], help="create or migrate the database to the current schema")
    purge = sub.add_parser(
        "purge-notifications", parents=[config_option()], help="delete notification cards whose retention ended (R7)"
    )
    purge.add_argument("--now", type=_aware, default=None, help="ISO time with offset (default: now)")


def run(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    engine = open_database(config)  # both actions migrate first (contract.md)
    try:
        if args.db_command == "upgrade":
            print(f"database at revision {current_revision(engine)}")
            return 0
        from zones.services import purge_notification_cards

        with session_factory(engine)() as session:
            n = purge_notification_cards(session, args.now or datetime.now(UTC))
        print(f"purged {n} notification card(s) past retention")
        return 0
    finally:
        engine.dispose()
