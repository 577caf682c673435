"""``sitegate serve``: the web panel, the API and one gate controller per configured gate,
in one process. Creates / migrates the database first; stops cleanly on SIGINT/SIGTERM.

The web runs under waitress, a production WSGI server in pure Python: it runs in this
process beside the gate controllers and the housekeeping threads (one database engine,
one snapshot), needs no C build, and sends no ``Server`` banner (``ident=""``). Files
created under ``var/`` (database, secret key, journals, snapshot cache) are private to the
user running SiteGate (umask 077)."""

from __future__ import annotations

import argparse
import logging
import signal
from typing import NoReturn

from sitegate.maintenance import Housekeeping
from sitegate.wiring import controllers, load_or_exit, open_database, setup_logging

log = logging.getLogger("sitegate.serve")

WEB_THREADS = 8  # requests served at once; the gates have threads of their own


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-gates", action="store_true", help="web and API only (gates run elsewhere)")
    parser.add_argument("--verbose", action="store_true")


def _stop(*_: object) -> NoReturn:
    # waitress's loop ends on SystemExit (raised here, in the main thread, where it runs)
    raise SystemExit(0)


def run(args: argparse.Namespace) -> int:
    from waitress.server import BaseWSGIServer, create_server

    from web.app import create_app

    config = load_or_exit(args.config)
    setup_logging(args.verbose, config.site.timezone)  # the log in site time, like the pages
    engine = open_database(config)
    app = create_app(config, engine=engine)
    server = create_server(app, host=args.host, port=args.port, threads=WEB_THREADS, ident="")
    assert isinstance(server, BaseWSGIServer)  # one address to listen on, not several
    housekeeping = Housekeeping(config, engine)  # R4 overdue visits, R7 purge
    housekeeping.start()
    url = f"http://{args.host}:{server.getsockname()[1]}/"
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    try:
        if args.no_gates:
            print(f"SiteGate serving on {url} (no gates)", flush=True)
            server.run()
        else:
            with controllers(config, engine) as runtime:
                log.info("SiteGate %r: %d gates", config.site.name, len(runtime.gates))
                print(f"SiteGate serving on {url}", flush=True)
                server.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        server.close()
        housekeeping.stop()
        engine.dispose()
    return 0
