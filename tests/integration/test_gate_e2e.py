"""Gates end to end: a card written into a real pty, a real pymodbus turnstile server, the
controller deciding from a snapshot of a real (migrated) database. No mocks.

Test names carry the rule ids they prove (rules.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.runtime import ControllerRuntime
from hardware.base import CardRead
from hardware.framing import encode_em4100
from hardware.modbus_io import ModbusIoModule
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim
from tests.integration.plant import ESCORT_CARD, People, central_events, journal_rows, migrated_sqlite, plant_config

VISITOR = "0A00C0FFEE"


@dataclass
class Plant:
    runtime: ControllerRuntime
    people: People
    turnstile: Any  # hardware.sim_turnstile.TurnstileSim
    entry: PtyReaderSim
    exit: PtyReaderSim
    engine: Any
    journal: Path
    wait_until: Callable[..., Any]

    def decisions(self, card: str | None = None) -> list[dict[str, Any]]:
        return [
            e for e in journal_rows(self.journal) if e["kind"] == "decision" and (card is None or e["card"] == card)
        ]

    def passages(self, card: str | None = None) -> list[dict[str, Any]]:
        return [e for e in journal_rows(self.journal) if e["kind"] == "passage" and (card is None or e["card"] == card)]

    def wait_decision(self, card: str, count: int = 1) -> dict[str, Any]:
        self.wait_until(lambda: len(self.decisions(card)) >= count, timeout=8, what=f"decision #{count} for {card}")
        return self.decisions(card)[count - 1]

    def wait_passage(self, card: str, count: int = 1) -> dict[str, Any]:
        """The ``count``-th passage of ``card``, once the gate's presence view has it too (the
        worker journals a passage, then records where the person is)."""
        self.wait_until(lambda: len(self.passages(card)) >= count, timeout=8, what=f"passage #{count} for {card}")
        passage = self.passages(card)[count - 1]
        person = passage["person_id"]
        if passage["passed"] and person is not None:
            inside = passage["direction"] == "in"
            self.wait_until(
                lambda: (self.runtime.site.presence.where(person) is not None) == inside,
                timeout=8,
                what=f"presence after passage #{count} for {card}",
            )
        return passage

    def pulses(self, coil: int = 0) -> int:
        """How many times the release coil went 0 -> 1 on the Modbus server."""
        history = self.turnstile.coil_history(coil)
        rises, last = 0, False
        for _t, value in history:
            rises += value and not last
            last = value
        return rises

    def refresh(self) -> None:
        """Wait until the controller's snapshot has every change made so far (< 1 s)."""
        from zones.central import current_change_no
        from zones.db import session_factory

        with session_factory(self.engine)() as s:
            target = current_change_no(s)
        self.wait_until(lambda: self.runtime.site.snapshot.change_no >= target, timeout=3, what="snapshot refresh")


@pytest.fixture
def plant(tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]) -> Iterator[Plant]:
    url, engine = migrated_sqlite(tmp_path / "central.db")
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.2)
    config = plant_config(url, sim.url)
    people = People(engine, config)
    entry, exit_ = PtyReaderSim("em4100"), PtyReaderSim("em4100")
    readers = {
        "smelting-east": SerialCardReader("smelting-east", "em4100", entry.port),
        "smelting-exit": SerialCardReader("smelting-exit", "em4100", exit_.port),
    }
    io = ModbusIoModule(sim.url, 1)
    journal = tmp_path / "journal.db"
    runtime = ControllerRuntime(
        config, engine, readers, {g: io for g in readers}, alarm_io=io, controller_id="test", journal_path=journal
    )
    runtime.start()
    try:
        wait_until(lambda: all(r.health()["online"] for r in readers.values()), what="readers online")
        yield Plant(runtime, people, sim, entry, exit_, engine, journal, wait_until)
    finally:
        runtime.stop()
        io.close()
        entry.close()
        exit_.close()
        engine.dispose()


def _rules(decision: dict[str, Any]) -> list[str]:
    return [r["rule"] for r in decision["reasons"]]


def test_R10_visitor_then_escort_pass_in_turn_from_one_presentation_each(plant: Plant) -> None:
    plant.people.visitor(VISITOR)
    plant.refresh()
    plant.entry.present(VISITOR)
    plant.wait_until(
        lambda: plant.runtime.gates["smelting-east"].health()["waiting_for_escort"] == 1,
        what="visitor waiting for the escort",
    )
    assert plant.decisions(VISITOR) == [] and plant.pulses() == 0
    plant.entry.present(ESCORT_CARD)
    d = plant.wait_decision(VISITOR)
    assert d["allowed"] and d["reasons"] == [] and d["escort_id"] == plant.people.seed.escort_id
    assert plant.wait_passage(VISITOR)["passed"] is True
    # The escort passes with them (R10): released after the visitor, a passage of their own.
    escort = plant.wait_decision(ESCORT_CARD)
    assert escort["allowed"] and escort["detail"]["escorting"] == [plant.people.seed.visitors[VISITOR]]
    assert plant.wait_passage(ESCORT_CARD)["passed"] is True
    assert plant.pulses() == 2
    assert [p["card"] for p in plant.passages()] == [VISITOR, ESCORT_CARD]
    # R15: both are now inside and the escort has the visitor in charge.
    vid = plant.people.seed.visitors[VISITOR]
    where = plant.runtime.site.presence.where(vid)
    assert where is not None and where.zone == "smelting"
    escort_where = plant.runtime.site.presence.where(plant.people.seed.escort_id)
    assert escort_where is not None and escort_where.zone == "smelting"
    assert plant.runtime.site.presence.charge(plant.people.seed.escort_id) == 1


def test_R10_escort_then_visitor_passes(plant: Plant) -> None:
    plant.people.visitor(VISITOR)
    plant.refresh()
    plant.entry.present(ESCORT_CARD)
    escort_entry = plant.wait_decision(ESCORT_CARD)
    assert escort_entry["allowed"]  # the escort's own entry
    plant.entry.present(VISITOR)
    d = plant.wait_decision(VISITOR)
    assert d["allowed"] and d["escort_id"] == plant.people.seed.escort_id
    assert plant.wait_passage(VISITOR)["passed"] is True
    assert plant.pulses() == 2  # one passage each


def test_R10_escort_card_alone_does_not_let_a_visitor_in(plant: Plant) -> None:
    plant.people.visitor(VISITOR)
    plant.refresh()
    plant.entry.present(ESCORT_CARD)
    plant.wait_passage(ESCORT_CARD)
    assert plant.decisions(VISITOR) == [] and plant.passages(VISITOR) == []
    assert plant.runtime.site.presence.where(plant.people.seed.visitors[VISITOR]) is None
    assert [p["person_id"] for p in plant.passages()] == [plant.people.seed.escort_id]


def test_R10_no_escort_within_window_denies_and_coil_never_written(plant: Plant) -> None:
    plant.people.visitor(VISITOR)
    plant.refresh()
    plant.entry.present(VISITOR)
    d = plant.wait_decision(VISITOR)
    assert not d["allowed"] and _rules(d) == ["R10"]
    assert plant.turnstile.coil_history(0) == []


@pytest.mark.parametrize(
    "rule, visitor_kwargs",
    [
        ("R5", {"form": False}),
        ("R8", {"educated_on": datetime.now(UTC) - timedelta(days=120)}),
        ("R7", {"notification": False}),  # R7: every zone needs the signed card
        ("R11", {"born": date.today().replace(year=date.today().year - 17) - timedelta(days=2)}),
        ("R12", {"helmet": False}),
    ],
)
def test_rule_denies_and_coil_never_written(plant: Plant, rule: str, visitor_kwargs: dict[str, Any]) -> None:
    plant.people.visitor(VISITOR, **visitor_kwargs)
    plant.refresh()
    plant.entry.present(ESCORT_CARD)  # escort first: the visitor is decided at once
    plant.wait_passage(ESCORT_CARD)
    plant.entry.present(VISITOR)
    d = plant.wait_decision(VISITOR)
    assert not d["allowed"] and rule in _rules(d)
    assert all(r["message"] for r in d["reasons"])
    assert plant.pulses() == 1  # the escort's own passage only


def test_R15_anti_passback_denies_second_entry_until_exit(plant: Plant) -> None:
    plant.people.visitor(VISITOR)
    plant.refresh()
    plant.entry.present(VISITOR)
    plant.entry.present(ESCORT_CARD)
    assert plant.wait_passage(VISITOR)["passed"]
    assert plant.wait_passage(ESCORT_CARD)["passed"]  # the escort went in with them
    plant.entry.present(ESCORT_CARD)  # nobody waiting: the escort's own entry, inside already
    assert _rules(plant.wait_decision(ESCORT_CARD, 2)) == ["R15"]
    plant.entry.present(VISITOR)  # escort seen within the window: decided now
    d = plant.wait_decision(VISITOR, 2)
    assert not d["allowed"] and _rules(d) == ["R15"]
    assert plant.pulses() == 2
    plant.exit.present(VISITOR)  # exit gates release for anyone on site
    assert plant.wait_passage(VISITOR, 2)["passed"]
    assert plant.runtime.site.presence.where(plant.people.seed.visitors[VISITOR]) is None


def test_R3_unknown_card_denied(plant: Plant) -> None:
    plant.entry.present("0DEADBEEF0")
    d = plant.wait_decision("0DEADBEEF0")
    assert not d["allowed"] and _rules(d) == ["R3"]
    assert plant.turnstile.coil_history(0) == []


def test_R16_alarm_holds_exits_open_and_locks_entries(plant: Plant) -> None:
    plant.people.visitor(VISITOR)
    plant.refresh()
    plant.turnstile.set_input(10, True)
    plant.wait_until(lambda: plant.turnstile.coil(1), what="exit coil held open")
    plant.entry.present(ESCORT_CARD)
    d = plant.wait_decision(ESCORT_CARD)
    assert not d["allowed"] and _rules(d) == ["R16"]
    assert plant.turnstile.coil_history(0) == [] or not any(v for _t, v in plant.turnstile.coil_history(0))
    plant.turnstile.set_input(10, False)
    plant.wait_until(lambda: not plant.turnstile.coil(1), what="exit coil released after the alarm")
    plant.entry.present(ESCORT_CARD)
    assert plant.wait_decision(ESCORT_CARD, 2)["allowed"]


def test_io_module_stopped_faults_gate_and_recovers_by_itself(plant: Plant) -> None:
    gate = plant.runtime.gates["smelting-east"]
    plant.turnstile.stop()
    plant.entry.present(ESCORT_CARD)  # the release fails: the gate faults
    plant.wait_until(lambda: gate.health()["state"] == "faulted", what="gate faulted")
    plant.entry.present(ESCORT_CARD)
    d = plant.wait_decision(ESCORT_CARD, 2)
    assert not d["allowed"] and _rules(d) == ["F1"]  # entry stays locked while faulted
    plant.turnstile.start()
    plant.wait_until(lambda: gate.health()["state"] == "ready", timeout=10, what="gate recovered")
    plant.entry.present(ESCORT_CARD)
    assert plant.wait_decision(ESCORT_CARD, 3)["allowed"]
    assert plant.wait_passage(ESCORT_CARD, 2)["passed"]


def test_malformed_frames_never_produce_a_decision(plant: Plant) -> None:
    plant.entry.write_raw(b"\x020A00C0FFEE00\x03")  # bad checksum
    plant.entry.write_raw(b"garbage\x02\x02ZZZZZZZZZZZZ\x03")  # garbage, bad characters
    plant.entry.write_raw(b"\x020A00C0FF")  # cut short, then a good frame
    plant.entry.present(ESCORT_CARD)
    plant.wait_decision(ESCORT_CARD)
    assert [d["card"] for d in plant.decisions()] == [ESCORT_CARD]
    reader = plant.runtime.gates["smelting-east"].health()["reader"]
    assert reader["discarded"] >= 3


def test_stale_read_is_ignored(plant: Plant) -> None:
    gate = plant.runtime.gates["smelting-east"]
    import time

    gate.on_card(CardRead("smelting-east", ESCORT_CARD, read_at=time.monotonic() - 10))
    assert plant.decisions() == []
    ignored = [e for e in journal_rows(plant.journal) if e["kind"] == "read"]
    assert ignored and ignored[0]["detail"]["ignored"] == "stale"


def test_R18_every_event_reaches_the_central_table_once(plant: Plant) -> None:
    plant.people.visitor(VISITOR)
    plant.refresh()
    plant.entry.present(VISITOR)
    plant.entry.present(ESCORT_CARD)
    plant.wait_passage(VISITOR)
    plant.wait_passage(ESCORT_CARD)  # the escort passes after the visitor (R10)
    keys = [e["key"] for e in journal_rows(plant.journal)]
    plant.wait_until(lambda: len(central_events(plant.engine)) >= len(keys), what="events shipped")
    assert sorted(e["key"] for e in central_events(plant.engine)) == sorted(keys)
    ok, count, _ = plant.runtime.site.journal.verify()
    assert ok and count == len(keys)


def test_R16_panel_emergency_reaches_the_gates_and_clears(plant: Plant) -> None:
    from zones.db import session_factory
    from zones.services.site import set_emergency

    with session_factory(plant.engine)() as s:
        set_emergency(s, True, "fire drill", plant.people.seed.officer_id)
    plant.wait_until(lambda: plant.turnstile.coil(1), what="exit coil held open by the panel's emergency")
    plant.entry.present(ESCORT_CARD)
    assert _rules(plant.wait_decision(ESCORT_CARD)) == ["R16"]
    with session_factory(plant.engine)() as s:
        set_emergency(s, False, "drill over", plant.people.seed.officer_id)
    plant.wait_until(lambda: not plant.turnstile.coil(1), what="exit coil released")
    plant.entry.present(ESCORT_CARD)
    assert plant.wait_decision(ESCORT_CARD, 2)["allowed"]


def test_R15_safety_officer_reset_lets_the_person_in_again(plant: Plant) -> None:
    from zones.db import session_factory
    from zones.services.site import reset_passback

    plant.entry.present(ESCORT_CARD)
    assert plant.wait_passage(ESCORT_CARD)["passed"]
    plant.wait_until(
        lambda: plant.people.seed.escort_id in plant.runtime.site.snapshot.presence,
        what="passage shipped to the central presence",
    )
    plant.entry.present(ESCORT_CARD)
    assert _rules(plant.wait_decision(ESCORT_CARD, 2)) == ["R15"]
    with session_factory(plant.engine)() as s:
        reset_passback(s, plant.people.seed.escort_id, "smelting", plant.people.seed.officer_id)
    plant.refresh()
    plant.entry.present(ESCORT_CARD)
    assert plant.wait_decision(ESCORT_CARD, 3)["allowed"]


def test_gate_health_reaches_the_central_database(plant: Plant) -> None:
    from sqlalchemy import select

    from zones.db import session_factory
    from zones.schema import GateHealth

    def reported() -> list[Any]:
        with session_factory(plant.engine)() as s:
            return list(s.scalars(select(GateHealth)))

    rows = plant.wait_until(lambda: len(reported()) == 2 and reported(), what="gate health rows")
    assert {r.gate_id for r in rows} == {"smelting-east", "smelting-exit"}
    assert all(r.state == "ready" and r.snapshot_age_s is not None and r.snapshot_age_s < 2 for r in rows)


def test_card_held_to_the_reader_is_one_presentation(plant: Plant) -> None:
    # An RDM6300 resends the frame while the card is held: five frames back to back.
    plant.runtime.site.repeat_read_s = 1.0
    frame = encode_em4100(ESCORT_CARD) * 5
    plant.entry.write_raw(frame)
    assert plant.wait_passage(ESCORT_CARD)["passed"]
    gate = plant.runtime.gates["smelting-east"]
    plant.wait_until(lambda: gate.counters["repeat_reads"] == 4, what="repeats counted")
    assert len(plant.decisions(ESCORT_CARD)) == 1 and plant.pulses() == 1


def test_R21_a_person_of_an_open_A_incident_is_denied_until_its_report_closes_it(plant: Plant) -> None:
    from zones.config import ReceptionSection
    from zones.db import session_factory
    from zones.schema import Visitor
    from zones.services.reception_incidents import PersonIn, file_report, record_incident

    officer = plant.people.seed.officer_id
    vid = plant.people.visitor(VISITOR)
    with session_factory(plant.engine)() as s:
        visitor = s.get(Visitor, vid)
        assert visitor is not None
        incident = record_incident(
            s,
            category="A",
            people=[PersonIn(visitor.name, visitor.organisation, visitor.id_number)],
            summary="shouts at reception about the dust",
            arrived_at=datetime.now(UTC),
            recorded_by=officer,
            settings=ReceptionSection(),
            timezone="Asia/Shanghai",
        )
        incident_id = incident.id
    plant.refresh()
    plant.entry.present(ESCORT_CARD)  # escort first: the visitor is decided at once
    plant.wait_passage(ESCORT_CARD)
    plant.entry.present(VISITOR)
    d = plant.wait_decision(VISITOR)
    assert not d["allowed"] and _rules(d) == ["R21"]
    with session_factory(plant.engine)() as s:
        file_report(s, incident_id, handled_by=officer, outcome="calmed", text="heard, left", reported_by=officer)
    plant.refresh()
    pulses = plant.pulses()
    plant.entry.present(VISITOR)
    plant.entry.present(ESCORT_CARD)
    assert plant.wait_decision(VISITOR, 2)["allowed"]
    assert plant.wait_passage(VISITOR)["passed"] is True
    assert plant.pulses() == pulses + 1
