"""Site housekeeping that ``sitegate serve`` runs in the background: R4 overdue visits and
the reception's missed deadlines (R21-R23) are flagged every few minutes, R7 notification
cards past their retention are purged daily.
Failures are logged and retried at the next round; nothing here touches the gates."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.engine import Engine

from zones.calendar import site_zone
from zones.config import SiteConfig
from zones.db import session_factory

log = logging.getLogger(__name__)


def last_closing(now: datetime, closes: str, timezone_name: str) -> datetime:
    """The latest moment at or before ``now`` when the site closed (``closes`` is HH:MM local)."""
    tz = site_zone(timezone_name)
    local_now = now.astimezone(tz)
    hh, mm = (int(x) for x in closes.split(":"))
    closing = datetime.combine(local_now.date(), time(hh, mm), tz)
    if closing > local_now:
        closing -= timedelta(days=1)
    return closing.astimezone(UTC)


def run_once(config: SiteConfig, engine: Engine, now: datetime, purge: bool) -> None:
    from zones.services.education import purge_notification_cards
    from zones.services.reception_overdue import sweep_overdue
    from zones.services.visits import flag_overdue

    with session_factory(engine)() as session:
        closed = last_closing(now, config.site.closes, config.site.timezone) if config.site.closes else None
        flagged = flag_overdue(
            session,
            now,
            timedelta(hours=config.rules.overdue_after_arrival_h),
            site_closed_at=closed,
            after_close=timedelta(hours=config.rules.overdue_after_close_h),
        )
        if flagged:
            log.warning("R4: %d visit(s) flagged overdue", len(flagged))
        sweep_overdue(session, now, config.site.timezone)
        if purge:
            purged = purge_notification_cards(session, now)
            if purged:
                log.info("R7: %d notification card(s) past retention purged", purged)


class Housekeeping:
    def __init__(self, config: SiteConfig, engine: Engine, interval_s: float = 300.0):
        self.config, self.engine, self.interval_s = config, engine, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="housekeeping", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        last_purge: datetime | None = None
        while True:
            now = datetime.now(UTC)
            purge = last_purge is None or now - last_purge >= timedelta(days=1)
            try:
                run_once(self.config, self.engine, now, purge)
                if purge:
                    last_purge = now
            except Exception as err:  # noqa: BLE001 - retried next round
                log.warning("housekeeping failed, retrying in %.0f s: %s", self.interval_s, err)
            if self._stop.wait(self.interval_s):
                return
