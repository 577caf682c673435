"""The one place that reads config.toml and wires the parts together for the commands
(the gates' hardware: sitegate.hardware_wiring).

Nothing here runs at import, and the database, controller and driver modules are imported
by the functions that need them, so a command that only reads config.toml stays fast.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from zones.config import ConfigError, SiteConfig, load_config

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def load_or_exit(path: str) -> SiteConfig:
    """Load config.toml; on mistakes print each one with its key path and exit 2."""
    try:
        return load_config(path)
    except ConfigError as err:
        for line in err.errors:
            print(line, file=sys.stderr)
        raise SystemExit(2) from None


def open_database(config: SiteConfig) -> Engine:
    """The database config.toml names, created or migrated to the current schema."""
    from zones.db import make_engine, upgrade

    engine = make_engine(config.site.database)
    upgrade(engine)
    return engine


class SiteTimeFormatter(logging.Formatter):
    """Log times in the site's timezone with their UTC offset (``2026-12-04 06:52:10,123
    +08:00``): the log reads like the pages, which show site time, and a time is never taken
    for the other zone. Every line of the process goes through it: SiteGate's own, the web
    server's (waitress), the drivers'."""

    def __init__(self, fmt: str, timezone: str | None) -> None:
        super().__init__(fmt)
        self.tz = ZoneInfo(timezone) if timezone else UTC

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        at = datetime.fromtimestamp(record.created, self.tz)
        offset = at.strftime("%z")
        return f"{at:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d} {offset[:3]}:{offset[3:]}"


def setup_logging(verbose: bool = False, timezone: str | None = None) -> None:
    """Log lines on stderr in ``timezone`` (the site's, ``site.timezone``; UTC when None),
    labelled with the offset."""
    handler = logging.StreamHandler()
    handler.setFormatter(SiteTimeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", timezone))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])


@contextmanager
def controllers(
    config: SiteConfig,
    engine: Engine,
    gate_ids: list[str] | None = None,
    controller_id: str = "serve",
    journal_path: str | None = None,
) -> Iterator[Any]:
    """Start the hardware (real or simulated) and a ControllerRuntime for ``gate_ids``;
    stop both on exit."""
    from controller.runtime import ControllerRuntime
    from sitegate.hardware_wiring import build_gate_hardware

    hardware = build_gate_hardware(config, gate_ids=gate_ids)
    runtime = ControllerRuntime(
        config,
        engine,
        hardware.readers,
        hardware.io,
        alarm_io=hardware.alarm_io,
        controller_id=controller_id,
        journal_path=journal_path,
        gate_ids=gate_ids,
    )
    try:
        runtime.start()
        yield runtime
    finally:
        runtime.stop()
        hardware.close()


def wait_for_signal(stop: threading.Event | None = None) -> None:
    """Block until SIGINT or SIGTERM (a clean stop)."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
