"""Wires gate controllers to their hardware, the journal and the central database.

One ``ControllerRuntime`` serves the gates of one process (``sitegate serve`` runs all
configured gates; ``sitegate controller --gates a,b`` a subset). Its sync thread keeps the
access snapshot fresh by change number: on PostgreSQL a listener thread wakes it the moment
a change commits (controller.notify), otherwise it polls. Its ship thread ships the journal
to the central events table and reports gate health. Its alarm thread watches the fire-alarm input
(R16); with an ``[mqtt]`` section a publisher thread sends the journal to the plant's
broker (controller.mqtt_publisher). When the database is unreachable the gates go on
deciding from the last snapshot, the journal grows, and everything is shipped, once, when
the database is back. The runtime reports itself in the process's metrics
(controller.metrics).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from controller import metrics
from controller.gate import GateController
from controller.journal import Entry, Journal
from controller.mqtt_publisher import MqttPublisher
from controller.notify import ChangeListener, libpq_url
from controller.site import SiteContext
from controller.snapshot_cache import CacheWriter, cache_key
from controller.snapshot_cache import load as load_cached_snapshot
from controller.turnstile import TState
from hardware.base import HardwareError, IoModule
from zones import central
from zones.calendar import local
from zones.config import SiteConfig
from zones.db import session_factory
from zones.facts import Policy
from zones.snapshot import build_snapshot, refresh_snapshot

log = logging.getLogger(__name__)


def default_journal_path(config: SiteConfig, controller_id: str) -> Path:
    """Beside the SQLite database, or in ./var for PostgreSQL sites."""
    db = config.site.database
    base = Path(db.removeprefix("sqlite:///")).parent if db.startswith("sqlite:///") else Path("var")
    return base / f"journal-{controller_id}.db"


class ControllerRuntime:
    SYNC_INTERVAL_S = 0.2  # polling: snapshot freshness goal < 1 s (design.md)
    SHIP_INTERVAL_S = 0.2
    SLOW_SYNC_S = 0.5  # a refresh or shipping pass longer than this is logged
    CACHE_CPU_S_PER_PERSON = 12e-6  # controller.snapshot_cache.save, measured
    HEALTH_INTERVAL_S = 1.0
    PRUNE_INTERVAL_S = 3600.0
    ALARM_INTERVAL_S = 0.1

    def __init__(
        self,
        config: SiteConfig,
        engine: Engine,
        readers: dict[str, Any],
        io: dict[str, IoModule],
        *,
        alarm_io: IoModule | None = None,
        controller_id: str = "serve",
        journal_path: str | Path | None = None,
        gate_ids: list[str] | None = None,
        snapshot_cache_interval_s: float = 60.0,
    ):
        self.config, self.engine = config, engine
        self._sessions = session_factory(engine)
        journal_path = Path(journal_path or default_journal_path(config, controller_id))
        journal = Journal(journal_path)
        self._full_build_needed = True
        self.site = SiteContext(
            controller_id=controller_id,
            policy=config.policy(),
            journal=journal,
            stale_read_s=config.rules.stale_read_s,
            repeat_read_s=config.rules.repeat_read_s,
        )
        self.cache = CacheWriter(
            journal_path.with_name(f"snapshot-{controller_id}.cache"),
            lambda: self.site.snapshot,
            cache_key(config.site.secret_key_file),
            snapshot_cache_interval_s,
        )
        self._cache_interval_s = snapshot_cache_interval_s
        zones = config.zone_map()
        wanted = gate_ids or [g.id for g in config.gates]
        self.gates = {
            g.id: GateController(g, zones[g.zone], self.site, readers[g.id], io[g.id])
            for g in config.gates
            if g.id in wanted
        }
        self.alarm_io = alarm_io
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by the change listener: sync now
        self.listener = (
            ChangeListener(libpq_url(engine), self._wake)
            if engine.dialect.name == "postgresql" and config.site.notify
            else None
        )
        self.publisher = (
            MqttPublisher(config.mqtt, journal, f"sitegate-{controller_id}") if config.mqtt is not None else None
        )
        self._threads: list[threading.Thread] = []
        self.db_ok = False
        self.last_db_error: str | None = None
        self.shipped_total = 0
        self._shown: Any = None  # what the last gate health report showed (_gates_changed)

    # -- life cycle -----------------------------------------------------------------------
    # CPython hands the GIL to a waiting thread only every switch interval (5 ms by
    # default). A card read waiting behind the sync thread's database work would pay that
    # several times on its way to the coil; 0.5 ms keeps card-to-coil p99 within its 10 ms
    # goal (README, Benchmarks).
    GIL_SWITCH_INTERVAL_S = 0.0005

    def start(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), self.GIL_SWITCH_INTERVAL_S))
        self._ship_once()  # what the last run journalled goes into the presence the build reads
        self._refresh(full=True)
        if not self.db_ok:
            self._start_from_cache()
        for gate in self.gates.values():
            gate.start()
        self._spawn(self._sync_loop, "sync")
        self._spawn(self._ship_loop, "ship")
        if self.listener is not None:
            self.listener.start()
        if self.alarm_io is not None and self.config.alarm is not None:
            self._spawn(self._alarm_loop, "alarm")
        if self.publisher is not None:
            self.publisher.start()
        self.cache.start()
        metrics.track(self)

    def _start_from_cache(self) -> None:
        """The database is unreachable at start: decide from the last snapshot saved on disk."""
        cached = load_cached_snapshot(self.cache.path, self.cache.key)
        if cached is None:
            log.warning("no database and no snapshot cache: every entry is denied until the database answers")
            return
        log.warning(
            "deciding from the cached snapshot of %s (change %s) until the database answers",
            cached.built_at.isoformat(timespec="seconds"),
            cached.change_no,
        )
        self.site.presence.load_base(cached.presence, 0)
        self.site.snapshot = cached
        self.cache.saved_change_no = cached.change_no
        self._set_command_emergency(bool(cached.emergency))

    def stop(self) -> None:
        metrics.untrack(self)
        self._stop.set()
        self._wake.set()
        for gate in self.gates.values():
            gate.stop()
        for t in self._threads:
            t.join(timeout=3)
        if self.listener is not None:
            self.listener.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.cache.stop()
        try:
            self._ship()  # best effort: what is not shipped now is shipped at the next start
        except Exception as err:  # noqa: BLE001 - the journal keeps it
            log.info("final shipping skipped: %s", err)
        self.site.journal.close()

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=f"controller-{name}", daemon=True)
        t.start()
        self._threads.append(t)

    # -- sync with the central database ----------------------------------------------------
    # Two threads: "sync" keeps the snapshot fresh, "ship" ships the journal and reports
    # gate health. A change that must reach the gates at once (a lost badge, R3; a ban,
    # R17; an emergency, R16; a revoked form, R5) so never waits behind shipping, which
    # under load took up to a second a pass (presence moves, alerts, and the change-number
    # lock every shipping controller takes).
    def _sync_loop(self) -> None:
        while not self._stop.is_set():
            # A change notification ends the wait at once; without one, this is the poll.
            self._wake.wait(self.SYNC_INTERVAL_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            self._refresh()

    def _ship_loop(self) -> None:
        next_health, next_prune = 0.0, 0.0
        while not self._stop.wait(self.SHIP_INTERVAL_S):
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + self.PRUNE_INTERVAL_S
                self._prune_journal()
            # health every HEALTH_INTERVAL_S, and at once when what the panel shows changed
            report = self._gates_changed() or time.monotonic() >= next_health
            if report:
                next_health = time.monotonic() + self.HEALTH_INTERVAL_S
            self._ship_once(report_health=report)

    def _refresh(self, full: bool = False) -> None:
        """Bring the snapshot up to the change sequence (``full``: build it anew). Passages
        shipped before it starts are in the presence it reads; later ones stay in the
        controller's own overlay until the next refresh."""
        began = time.monotonic()
        journal = self.site.journal
        try:
            shipped_seq = journal.last_seq - journal.backlog()
            today = today_at_site(self.site.policy)
            with self._sessions() as session:
                snap = self.site.snapshot
                if full or self._full_build_needed:
                    # A cached snapshot may come from another database state: rebuild.
                    snap = build_snapshot(session, today)
                else:
                    snap = refresh_snapshot(session, snap, today)
                session.commit()
        except Exception as err:  # noqa: BLE001 - any database failure: keep deciding
            self._database_lost(err)
            return
        self._database_reached(snap.change_no)
        if full or self._full_build_needed:
            # Saving the disk cache pickles every person (~12 us of CPU each: ~24 s at
            # 2,000,000); keep it near 5 % of a core, never every minute at that size.
            self.cache.interval_s = max(self._cache_interval_s, len(snap.by_id) * self.CACHE_CPU_S_PER_PERSON * 20)
        self._full_build_needed = False
        if snap is not self.site.snapshot or full:
            self.site.presence.load_base(snap.presence, shipped_seq)
            self.site.snapshot = snap
        self.site.snapshot_ok_at = time.monotonic()
        self._set_command_emergency(bool(snap.emergency))
        took = time.monotonic() - began
        if not full and took > self.SLOW_SYNC_S:
            log.info("slow snapshot refresh: %.0f ms (change %s)", took * 1000, snap.change_no)

    def _ship_once(self, report_health: bool = False) -> None:
        began = time.monotonic()
        shipped_before = self.shipped_total
        try:
            self._ship()
            shipped = time.monotonic()
            if report_health:
                with self._sessions() as session:
                    self._report_health(session)
                    session.commit()
        except Exception as err:  # noqa: BLE001 - the journal keeps what was not shipped
            self._database_lost(err)
            return
        self._database_reached(None)
        if time.monotonic() - began > self.SLOW_SYNC_S:
            log.info(
                "slow shipping pass: shipping %.0f ms (%d events), health %.0f ms",
                (shipped - began) * 1000,
                self.shipped_total - shipped_before,
                (time.monotonic() - shipped) * 1000,
            )

    def _database_reached(self, change_no: int | None) -> None:
        if not self.db_ok:
            log.info("central database reachable" + ("" if change_no is None else f" (change {change_no})"))
        self.db_ok, self.last_db_error = True, None

    def _database_lost(self, err: Exception) -> None:
        if self.db_ok or self.last_db_error is None:
            log.warning("central database unreachable, deciding from the snapshot: %s", err)
        self.db_ok, self.last_db_error = False, str(err).splitlines()[0][:300]

    def _prune_journal(self) -> None:
        """Shipped journal rows older than ``site.journal_retention_days`` go (the central
        events table keeps them, R18); the hash chain stays verifiable."""
        keep = timedelta(days=self.config.site.journal_retention_days)
        removed = self.site.journal.prune(datetime.now(UTC) - keep, keep_unpublished=self.publisher is not None)
        if removed:
            log.info("journal: %d shipped rows older than %s removed", removed, keep)

    def _ship(self) -> None:
        journal = self.site.journal
        while True:
            batch = journal.unshipped(500)
            if not batch:
                return
            with self._sessions() as session:
                self.shipped_total += central.ship_events(session, [_central_event(e) for e in batch])
                session.commit()
            journal.mark_shipped(batch[-1].seq)

    def _gates_changed(self) -> bool:
        """Whether a gate's state, its escort waits or the emergency changed since the last
        look: an emergency's end reaches the panel at the next sync, not a heartbeat later
        with the gates still shown in "emergency" (memory only; cheap at every sync)."""
        shown = (self.site.emergency_active, [gate.shown() for gate in self.gates.values()])
        changed, self._shown = shown != self._shown, shown
        return changed

    def _report_health(self, session: Any) -> None:
        age = self.site.snapshot_age_s()
        for gate in self.gates.values():
            detail = gate.health()
            detail["emergency"] = self.site.emergency_active
            detail["journal_backlog"] = self.site.journal.backlog()
            central.report_gate_health(session, gate.gate_id, self.site.controller_id, detail["state"], age, detail)

    # -- emergencies (R16) -----------------------------------------------------------------
    def _set_command_emergency(self, active: bool) -> None:
        before = self.site.emergency_active
        self.site.command_active = active
        self._emergency_changed(before)

    def set_alarm(self, active: bool) -> None:
        before = self.site.emergency_active
        self.site.alarm_active = active
        self._emergency_changed(before)

    def _emergency_changed(self, before: bool) -> None:
        now = self.site.emergency_active
        if now != before:
            log.warning("emergency %s", "ACTIVE: exits held open, entries locked" if now else "cleared")
            for gate in self.gates.values():
                gate.set_emergency(now)

    def _alarm_loop(self) -> None:
        assert self.alarm_io is not None and self.config.alarm is not None
        address = self.config.alarm.input
        while not self._stop.wait(self.ALARM_INTERVAL_S):
            try:
                active = self.alarm_io.read_inputs(address, 1)[0]
            except HardwareError as err:
                # Unknown is not "no alarm": keep the last known state.
                log.debug("alarm input unreadable: %s", err)
                continue
            if active != self.site.alarm_active:
                self.set_alarm(active)

    # -- health for the CLI and tests ----------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return {
            "db_ok": self.db_ok,
            "last_db_error": self.last_db_error,
            "snapshot_age_s": self.site.snapshot_age_s(),
            "change_no": self.site.snapshot.change_no,
            "emergency": self.site.emergency_active,
            "journal_backlog": self.site.journal.backlog(),
            "gates": {g: gate.health() for g, gate in self.gates.items()},
        }

    def metrics_view(self) -> dict[str, Any]:
        """What controller.metrics reports at scrape time (cheap: no database work)."""
        journal = self.site.journal
        oldest = journal.unshipped(1)
        lag = (datetime.now(UTC) - datetime.fromisoformat(oldest[0].event["at"])).total_seconds() if oldest else 0.0
        return {
            "db_ok": self.db_ok,
            "notify_up": self.listener is not None and self.listener.connected,
            "snapshot_age_s": self.site.snapshot_age_s(),
            "change_no": self.site.snapshot.change_no,
            "emergency": self.site.emergency_active,
            "journal_backlog": journal.backlog(),
            "shipping_lag_s": max(0.0, lag),
            "mqtt_backlog": self.publisher.backlog() if self.publisher is not None else None,
            "mqtt_up": self.publisher is not None and self.publisher.connected,
            "gates": [
                # The module is connected lazily: only a faulted gate has found it unreachable.
                (g.gate_id, g.zone.id, bool(g.reader.health().get("online")), g.worker.machine.state != TState.FAULTED)
                for g in self.gates.values()
            ],
        }


def _central_event(entry: Entry) -> dict[str, Any]:
    e = dict(entry.event)
    e["at"] = datetime.fromisoformat(e["at"])
    e.setdefault("reasons", [])
    e.setdefault("detail", {})
    e["detail"] = {**(e.get("detail") or {}), "journal_seq": entry.seq}
    return e


def today_at_site(policy: Policy) -> date:
    return local(datetime.now(UTC), policy.timezone).date()
