"""Prometheus metrics of the gate controllers of one process (``/metrics``).

Two kinds. Counted on the decision path, and nothing more than a counter increment there:
decisions by gate, outcome and rule, and the card-to-coil latency histogram (the time
from the card read to the release coil set). Read at scrape time from the runtimes'
health, never on the decision path: reader and I/O module online, database reachable,
change notifications listened to, snapshot age and change number, journal backlog,
shipping lag, MQTT backlog and connection.

Every runtime of the process registers here (``track``); one collector reports them all,
labelled by controller id, so ``sitegate serve`` and each ``sitegate controller``
process expose the same families. No label or value carries personal data (R20): gates,
zones, controller ids, rule ids and counts only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from zones.facts import Reason

if TYPE_CHECKING:
    from controller.runtime import ControllerRuntime

DECISIONS = Counter(
    "sitegate_decisions",
    "Gate decisions by outcome and by the first rule that denied (none when allowed).",
    ["gate", "outcome", "rule"],
)
CARD_TO_COIL = Histogram(
    "sitegate_card_to_coil_seconds",
    "From the card read to the release coil set, per granted passage.",
    ["gate"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def decided(gate: str, allowed: bool, reasons: Iterable[Reason]) -> None:
    """Count one decision (the gate's decision path)."""
    rule = "none" if allowed else next((r.rule for r in reasons), "none")
    DECISIONS.labels(gate, "allowed" if allowed else "denied", rule).inc()


def coil_set(gate: str, read_at: float | None) -> None:
    """Observe card-to-coil for a release whose card was read at ``read_at`` (monotonic)."""
    if read_at is not None:
        CARD_TO_COIL.labels(gate).observe(time.monotonic() - read_at)


class _RuntimeCollector(Collector):
    """Gauges read from every tracked runtime's health at scrape time."""

    def __init__(self) -> None:
        self._runtimes: list[ControllerRuntime] = []
        self._lock = threading.Lock()

    def add(self, runtime: ControllerRuntime) -> None:
        with self._lock:
            self._runtimes.append(runtime)

    def remove(self, runtime: ControllerRuntime) -> None:
        with self._lock:
            self._runtimes = [r for r in self._runtimes if r is not runtime]

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            runtimes = list(self._runtimes)
        c = ["controller"]
        db_ok = GaugeMetricFamily("sitegate_database_up", "The central database answered the last sync.", labels=c)
        notify = GaugeMetricFamily(
            "sitegate_change_notify_up", "Listening for change notifications (PostgreSQL NOTIFY).", labels=c
        )
        age = GaugeMetricFamily("sitegate_snapshot_age_seconds", "Age of the access snapshot.", labels=c)
        change = GaugeMetricFamily("sitegate_snapshot_change_number", "Change number of the snapshot.", labels=c)
        backlog = GaugeMetricFamily("sitegate_journal_backlog", "Journal entries not yet shipped.", labels=c)
        lag = GaugeMetricFamily(
            "sitegate_shipping_lag_seconds", "Age of the oldest journal entry not yet shipped (0: none).", labels=c
        )
        mqtt_backlog = GaugeMetricFamily(
            "sitegate_mqtt_backlog", "Journal entries not yet acknowledged by the MQTT broker.", labels=c
        )
        mqtt_up = GaugeMetricFamily("sitegate_mqtt_up", "Connected to the MQTT broker.", labels=c)
        g = ["controller", "gate", "zone"]
        reader = GaugeMetricFamily("sitegate_reader_online", "The gate's card reader is online.", labels=g)
        io = GaugeMetricFamily("sitegate_io_online", "The gate's I/O module is reachable (gate not faulted).", labels=g)
        emergency = GaugeMetricFamily("sitegate_emergency", "An emergency is active (R16).", labels=c)
        for rt in runtimes:
            cid = rt.site.controller_id
            h = rt.metrics_view()
            db_ok.add_metric([cid], float(h["db_ok"]))
            notify.add_metric([cid], float(h["notify_up"]))
            if h["snapshot_age_s"] is not None:
                age.add_metric([cid], h["snapshot_age_s"])
            change.add_metric([cid], h["change_no"])
            backlog.add_metric([cid], h["journal_backlog"])
            lag.add_metric([cid], h["shipping_lag_s"])
            emergency.add_metric([cid], float(h["emergency"]))
            if h["mqtt_backlog"] is not None:
                mqtt_backlog.add_metric([cid], h["mqtt_backlog"])
                mqtt_up.add_metric([cid], float(h["mqtt_up"]))
            for gate_id, zone, reader_online, io_online in h["gates"]:
                reader.add_metric([cid, gate_id, zone], float(reader_online))
                io.add_metric([cid, gate_id, zone], float(io_online))
        yield from (db_ok, notify, age, change, backlog, lag, mqtt_backlog, mqtt_up, reader, io, emergency)


_COLLECTOR = _RuntimeCollector()
REGISTRY.register(_COLLECTOR)


def track(runtime: ControllerRuntime) -> None:
    """Report ``runtime`` in this process's metrics until ``untrack``."""
    _COLLECTOR.add(runtime)


def untrack(runtime: ControllerRuntime) -> None:
    _COLLECTOR.remove(runtime)
