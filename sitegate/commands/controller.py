"""``sitegate controller --gates a,b``: run gate controllers alone against a central
database, for sites where gates hang off other machines than the web."""

from __future__ import annotations

import argparse
import logging
import socket

from sitegate.wiring import controllers, load_or_exit, open_database, setup_logging, wait_for_signal

log = logging.getLogger("sitegate.controller")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gates", required=True, help="comma-separated gate ids from config.toml")
    parser.add_argument("--id", default=None, help="controller id (default: hostname-gates)")
    parser.add_argument("--journal", default=None, help="local journal file (default: var/journal-ID.db)")
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus /metrics on this port (0: any free port)"
    )
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for --metrics-port")
    parser.add_argument("--verbose", action="store_true")


def run(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    setup_logging(args.verbose, config.site.timezone)
    gate_ids = [g.strip() for g in args.gates.split(",") if g.strip()]
    known = {g.id for g in config.gates}
    unknown = [g for g in gate_ids if g not in known]
    if unknown:
        print(f"{args.config}: unknown gate(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return 2
    controller_id = args.id or f"{socket.gethostname()}-{'-'.join(gate_ids)}"
    # The database may be down when a controller starts: it decides from nothing until it
    # can build a snapshot, journalling every read (the schema is migrated by `serve`).
    try:
        engine = open_database(config)
    except Exception as err:  # noqa: BLE001
        log.warning("central database not reachable at start (%s); starting offline", err)
        from zones.db import make_engine

        engine = make_engine(config.site.database)
    with controllers(config, engine, gate_ids=gate_ids, controller_id=controller_id, journal_path=args.journal):
        if args.metrics_port is not None:
            from prometheus_client import start_http_server

            server, _ = start_http_server(args.metrics_port, addr=args.metrics_host)
            print(f"controller {controller_id}: metrics on http://{args.metrics_host}:{server.server_port}/metrics")
        print(f"controller {controller_id}: gates {', '.join(gate_ids)} running", flush=True)
        wait_for_signal()
    return 0
