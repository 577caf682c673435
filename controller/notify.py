"""Wakes a controller's sync thread the moment a change commits (PostgreSQL LISTEN/NOTIFY).

``record_change`` issues ``pg_notify('sitegate_changes', ...)`` in the writer's
transaction, so PostgreSQL delivers it at commit. The listener holds one dedicated
autocommit connection, LISTENs on that channel in a thread of its own and sets the sync
thread's wake-up event for every notification: a lost badge (R3), a ban (R17), an
emergency (R16) or a revoked form (R5) reaches the gates in one refresh instead of after
the next polling interval. Polling by change number stays the fallback (SQLite sites, a
listener that is reconnecting), so a missed notification only costs latency, never a
change. The listener never touches the decision path; when its connection breaks it
reconnects with a growing pause.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import Engine

from zones.services._common import CHANGES_CHANNEL as CHANNEL

log = logging.getLogger(__name__)


def libpq_url(engine: Engine) -> str:
    """The engine's URL as libpq reads it (no SQLAlchemy driver suffix)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    """Sets ``wake`` on every change notification; ``connected`` says whether it listens now."""

    BACKOFF_START_S = 0.5
    BACKOFF_MAX_S = 30.0
    POLL_S = 0.5  # how often the thread looks at its stop flag between notifications

    def __init__(self, url: str, wake: threading.Event):
        self.url, self.wake = url, wake
        self.connected = False
        self.notifications = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="controller-notify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        pause = self.BACKOFF_START_S
        while not self._stop.is_set():
            try:
                self._listen()
                pause = self.BACKOFF_START_S
            except psycopg.Error as err:
                if self.connected:
                    log.warning("change notifications lost (%s); polling until reconnected", str(err).strip())
                self.connected = False
                self._stop.wait(pause)
                pause = min(pause * 2, self.BACKOFF_MAX_S)

    def _listen(self) -> None:
        # Keepalives: a connection cut without a FIN (a dead link) is noticed within ~25 s.
        with psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=5,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        ) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            if not self.connected:
                log.info("listening for change notifications")
            self.connected = True  # changes committed while it was away: the next poll finds them
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=self.POLL_S):
                    self.notifications += 1
                    self.wake.set()
