"""Options every ``sitegate`` parser accepts, wherever they appear on the command line."""

from __future__ import annotations

import argparse


def config_option() -> argparse.ArgumentParser:
    """A parent parser holding ``--config``, for every subcommand and nested action
    (``sitegate user create bob --role guard --config site.toml``). Its default is
    suppressed so a subparser never overwrites the value given before the subcommand or the
    top-level default."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--config", default=argparse.SUPPRESS, help="path of config.toml")
    return parent
