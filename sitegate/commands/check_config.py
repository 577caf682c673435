"""``sitegate check-config``: validate config.toml, print every error with its key path, exit 2."""

from __future__ import annotations

import argparse
import sys

from zones.config import ConfigError, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as err:
        for line in err.errors:
            print(line, file=sys.stderr)
        return 2
    print(f"{args.config}: ok ({len(config.zones)} zones, {len(config.gates)} gates)")
    return 0
