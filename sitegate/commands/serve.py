"""``sitegate serve``: the web panel, the API and one gate controller per configured gate,
in one process. Creates / migrates the database first; stops cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from sitegate.maintenance import Housekeeping
from sitegate.wiring import controllers, load_or_exit, open_database, setup_logging

log = logging.getLogger("sitegate.serve")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-gates", action="store_true", help="web and API only (gates run elsewhere)")
    parser.add_argument("--verbose", action="store_true")


def run(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from web.app import create_app

    setup_logging(args.verbose)
    config = load_or_exit(args.config)
    engine = open_database(config)
    app = create_app(config, engine=engine)
    server = make_server(args.host, args.port, app, threaded=True)
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    housekeeping = Housekeeping(config, engine)  # R4 overdue visits, R7 purge
    housekeeping.start()
    url = f"http://{args.host}:{server.server_port}/"
    if args.no_gates:
        print(f"SiteGate serving on {url} (no gates)", flush=True)
        server.serve_forever(poll_interval=0.2)
    else:
        with controllers(config, engine) as runtime:
            log.info("SiteGate %r: %d gates", config.site.name, len(runtime.gates))
            print(f"SiteGate serving on {url}", flush=True)
            server.serve_forever(poll_interval=0.2)
    housekeeping.stop()
    engine.dispose()
    return 0
