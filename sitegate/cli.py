"""The ``sitegate`` command line (contract.md). Each subcommand lives in its own module under
``sitegate.commands``; only the module of the subcommand being run is imported (the others
appear in ``--help`` from the table below), so ``sitegate check-config`` does not load the
web, database or driver libraries the other subcommands need."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from sitegate.options import config_option

# subcommand -> (module under sitegate.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run the web panel, the API and one controller per configured gate"),
    "controller": ("controller", "run gate controllers alone against the central database"),
    "check-config": ("check_config", "validate config.toml; print each error with its key path"),
    "user": ("user", "manage employees / users (user create NAME --role ROLE ...)"),
    "department": ("department", "name a department's head, who approves its contact forms (R5)"),
    "sim": ("sim", "drive simulated gates of a running `sitegate serve` (present a card, alarm)"),
    "audit": ("audit", "check the local journal's hash chain (audit verify)"),
    "demo": ("demo", "seed a fresh demo database with staff accounts (demo seed)"),
    "db": ("db", "database maintenance (upgrade, purge notification cards past retention)"),
}


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line, if any (before full parsing)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    pre.add_argument("command", nargs="?")
    known, _ = pre.parse_known_args(argv)
    return known.command if known.command in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = _chosen(argv)
    parser = argparse.ArgumentParser(prog="sitegate", description="SiteGate site-access safety control")
    parser.add_argument("--config", default="config.toml", help="path of config.toml (default ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, parents=[config_option()])
        if name == chosen:
            importlib.import_module(f"sitegate.commands.{module}").add_arguments(p)
    args = parser.parse_args(argv)
    # Any command may create the database, the secret key, journals or the snapshot cache
    # (contract: created or migrated on first use): readable by this user only, 0600 / 0700.
    os.umask(0o077)
    mod = importlib.import_module(f"sitegate.commands.{COMMANDS[args.command][0]}")
    return int(mod.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
