"""The ``sitegate`` command line (contract.md). Each subcommand lives in its own module under
``sitegate.commands`` and is imported only when run, so ``sitegate check-config`` stays fast
and a missing optional part cannot break the others."""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module under sitegate.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run the web panel, the API and one controller per configured gate"),
    "controller": ("controller", "run gate controllers alone against the central database"),
    "check-config": ("check_config", "validate config.toml; print each error with its key path"),
    "user": ("user", "manage employees / users (user create NAME --role ROLE ...)"),
    "sim": ("sim", "drive simulated gates of a running `sitegate serve` (present a card, alarm)"),
    "audit": ("audit", "check the local journal's hash chain (audit verify)"),
    "demo": ("demo", "seed a fresh demo database with staff accounts (demo seed)"),
    "db": ("db", "database maintenance (upgrade, purge notification cards past retention)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sitegate", description="SiteGate site-access safety control")
    parser.add_argument("--config", default="config.toml", help="path of config.toml (default ./config.toml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", default=argparse.SUPPRESS, help="path of config.toml")
        p.set_defaults(_module=module)
        try:
            mod = importlib.import_module(f"sitegate.commands.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"sitegate.commands.{module}":
                raise
            continue  # subcommand not built yet
        mod.add_arguments(p)
    args = parser.parse_args(argv)
    mod = importlib.import_module(f"sitegate.commands.{args._module}")
    return int(mod.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
