"""``sitegate audit verify [--journal PATH]``: check a controller journal's hash chain (R18)."""

from __future__ import annotations

import argparse
from pathlib import Path

from controller.journal import Journal
from controller.runtime import default_journal_path
from sitegate.wiring import load_or_exit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["verify"])
    parser.add_argument(
        "--journal",
        action="append",
        default=None,
        help="journal file(s) to check (default: every var/journal-*.db of this config)",
    )


def run(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    paths = (
        [Path(p) for p in args.journal]
        if args.journal
        else sorted(default_journal_path(config, "x").parent.glob("journal-*.db"))
    )
    if not paths:
        print("no journal found")
        return 1
    failed = False
    for path in paths:
        if not path.exists():
            print(f"{path}: no such journal")
            failed = True
            continue
        journal = Journal(path)
        ok, count, problem = journal.verify()
        journal.close()
        print(f"{path}: {'ok' if ok else 'BROKEN'}: {count} rows checked" + ("" if ok else f"; {problem}"))
        failed |= not ok
    return 1 if failed else 0
