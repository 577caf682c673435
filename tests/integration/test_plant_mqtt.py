"""Events to MQTT (issue 12): a real paho subscriber on a Mosquitto of the test's own gets
every decision and passage, in journal order, also those journalled while the broker was
stopped, and never an identity or phone number (R20)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from controller.mqtt_publisher import KINDS
from controller.runtime import ControllerRuntime
from hardware.modbus_io import ModbusIoModule
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim
from tests.integration.mosquitto import Mosquitto
from tests.integration.plant import ESCORT_CARD, People, journal_rows, migrated_sqlite, plant_config_text
from zones.config import parse_config
from zones.db import session_factory
from zones.schema import Visitor

VISITOR = "0A00AB0001"
PREFIX = "plant-test"


class Subscriber:
    """A persistent-session QoS 1 subscriber that reconnects by itself."""

    def __init__(self, port: int, prefix: str = PREFIX):
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="plant-test-sub", clean_session=False)
        self.client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 1)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, json.loads(msg.payload)))

    def received(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path / "mosquitto")
    b.start()
    yield b
    b.stop()


def test_events_reach_a_subscriber_in_order_across_a_broker_restart(
    broker: Mosquitto, tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    url, engine = migrated_sqlite(tmp_path / "central.db")
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.05)
    text = plant_config_text(url, sim.url) + f'\n[mqtt]\nurl = "{broker.url}"\ntopic_prefix = "{PREFIX}"\n'
    config = parse_config(text, "test-plant.toml")
    people = People(engine, config)
    people.visitor(VISITOR)
    with session_factory(engine)() as s:
        visitor = s.get(Visitor, people.seed.visitors[VISITOR])
        assert visitor is not None
        personal = [p for p in (visitor.id_number, visitor.phone) if p]
        assert len(personal) == 2
    journal = tmp_path / "journal.db"
    pty = PtyReaderSim("em4100")
    io = ModbusIoModule(sim.url, 1)
    sub = Subscriber(broker.port)
    runtime = ControllerRuntime(
        config,
        engine,
        {"smelting-east": SerialCardReader("smelting-east", "em4100", pty.port)},
        {"smelting-east": io},
        controller_id="mqtt",
        journal_path=journal,
        gate_ids=["smelting-east"],
    )

    def published() -> list[dict[str, Any]]:
        return [e for e in journal_rows(journal) if e["kind"] in KINDS]

    def seqs_received() -> list[int]:
        seen: list[int] = []
        for _topic, body in sub.received():  # QoS 1 may repeat a message: keep first arrivals
            if body["seq"] not in seen:
                seen.append(body["seq"])
        return seen

    try:
        runtime.start()
        assert runtime.publisher is not None
        wait_until(lambda: runtime.publisher is not None and runtime.publisher.connected, what="publisher connected")
        pty.present(VISITOR)
        pty.present(ESCORT_CARD)
        wait_until(lambda: any(t.endswith("/passage") for t, _ in sub.received()), what="passage published")

        broker.stop()
        wait_until(lambda: runtime.publisher is not None and not runtime.publisher.connected, what="broker gone")
        held = [f"0D{i:08X}" for i in range(5)]  # unknown cards: denied, R3
        for card in held:
            pty.present(card)
        wait_until(lambda: sum(e.get("card") in held for e in published()) == len(held), what="journalled")
        assert runtime.publisher.backlog() >= len(held)

        broker.start()
        wait_until(
            lambda: len(seqs_received()) == len(published()), timeout=20, what="every held event delivered after"
        )
        journal_seqs = [e["seq"] for e in _with_seq(journal)]
        assert seqs_received() == journal_seqs  # in journal order, none missing
        wait_until(lambda: runtime.publisher is not None and runtime.publisher.backlog() == 0, what="cursor moved")

        bodies = sub.received()
        for topic, body in bodies:
            assert topic == f"{PREFIX}/smelting/smelting-east/{body['kind']}"
            raw = json.dumps(body)
            assert not any(p in raw for p in personal)  # R20
        held_decisions = [b for _, b in bodies if b["kind"] == "decision" and b.get("card") in held]
        assert {b["card"] for b in held_decisions} == set(held)
        assert all(b["allowed"] is False and b["reasons"][0]["rule"] == "R3" for b in held_decisions)
        visitor_decision = next(b for _, b in bodies if b["kind"] == "decision" and b.get("card") == VISITOR)
        assert visitor_decision["allowed"] is True and visitor_decision["person_id"] == people.seed.visitors[VISITOR]
    finally:
        runtime.stop()
        sub.close()
        io.close()
        pty.close()
        engine.dispose()


def _with_seq(journal: Path) -> list[dict[str, Any]]:
    """Publishable journal rows with their seq."""
    import sqlite3

    db = sqlite3.connect(journal)
    try:
        rows = db.execute("SELECT seq, body FROM journal ORDER BY seq").fetchall()
    finally:
        db.close()
    return [{"seq": seq, **json.loads(body)} for seq, body in rows if json.loads(body)["kind"] in KINDS]
