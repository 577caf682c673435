"""Escort custody end to end (R10, R17, R21): cards written into real ptys, a real pymodbus
turnstile server, a controller deciding from a migrated database, and the HTTP API on the
same database for the take-over. No mocks.

Three escorts of the smelting zone's department: A (the plant's seeded escort, Wang Wei),
B and C. Each visitor's contact form names one of them as the escort of record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from controller.runtime import ControllerRuntime
from hardware.modbus_io import ModbusIoModule
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim
from tests.integration.plant import ESCORT_CARD, People, central_events, migrated_sqlite, plant_config
from tests.integration.test_gate_e2e import Plant
from zones.db import session_factory
from zones.schema import Alert, Ban, ContactForm, ContactFormEscort, Incident, IncidentPerson, Presence
from zones.services._common import record_change
from zones.services.people import create_user

B_CARD, C_CARD = "0B00000003", "0B00000004"
V1, V2, V3 = "0A00000101", "0A00000102", "0A00000103"
WINDOW_S = 3.0  # longer than the 2 s of the "escort of another group" case


@dataclass
class Custody:
    plant: Plant
    escort_a: int
    escort_b: int
    escort_c: int
    tokens: dict[str, str]  # "A", "B", "C", "officer" -> API token
    web: FlaskClient

    def api(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.web.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def alerts(self, **where: Any) -> list[Alert]:
        with session_factory(self.plant.engine)() as s:
            q = select(Alert).order_by(Alert.id)
            for col, value in where.items():
                q = q.where(getattr(Alert, col) == value)
            return list(s.scalars(q))


@pytest.fixture
def custody(
    tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> Iterator[Custody]:
    from web.app import create_app

    url, engine = migrated_sqlite(tmp_path / "central.db")
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.2)
    config = plant_config(url, sim.url, escort_window_s=WINDOW_S)
    people = People(engine, config)
    tokens: dict[str, str] = {}
    with session_factory(engine)() as s:
        ids = []
        for who, name, card in (("B", "Li Na", B_CARD), ("C", "Chen Jie", C_CARD)):
            emp, token = create_user(
                s,
                name,
                "escort",
                department="steelmaking",
                escort_zones=["smelting"],
                card=card,
                dispatch_room=True,
                zones=config.zone_map(),
            )
            ids.append(emp.id)
            tokens[who] = token
        from zones.services.people import create_token

        tokens["A"] = create_token(s, people.seed.escort_id)
        tokens["officer"] = create_token(s, people.seed.officer_id)
        s.commit()
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
    web_config = config.model_copy(
        update={"site": config.site.model_copy(update={"secret_key_file": str(tmp_path / "secret_key")})}
    )
    app = create_app(web_config, engine=engine, testing=True, pages=False)
    runtime.start()
    try:
        wait_until(lambda: all(r.health()["online"] for r in readers.values()), what="readers online")
        plant = Plant(runtime, people, sim, entry, exit_, engine, journal, wait_until)
        yield Custody(plant, people.seed.escort_id, ids[0], ids[1], tokens, app.test_client())
    finally:
        runtime.stop()
        io.close()
        entry.close()
        exit_.close()
        engine.dispose()


def _rules(decision: dict[str, Any]) -> list[str]:
    return [r["rule"] for r in decision["reasons"]]


def _waiting(plant: Plant) -> int:
    return int(plant.runtime.gates["smelting-east"].health()["waiting_for_escort"])


def test_R10_visitor_is_denied_with_an_escort_not_of_record_and_passes_with_their_own(custody: Custody) -> None:
    plant = custody.plant
    visitor = plant.people.visitor(V1)  # the form names A (Wang Wei)
    plant.refresh()
    plant.entry.present(V1)
    plant.wait_until(lambda: _waiting(plant) == 1, what="visitor waiting for the escort")
    plant.entry.present(B_CARD)  # B is not on the visitor's form: B's own entry, no pairing
    assert plant.wait_passage(B_CARD)["passed"]
    assert plant.wait_decision(B_CARD)["detail"].get("escorting") is None
    denied = plant.wait_decision(V1)  # the window closes without A
    assert not denied["allowed"] and _rules(denied) == ["R10"] and denied["escort_id"] is None
    assert "Wang Wei" in denied["reasons"][0]["message"]  # names the form's escorts
    assert plant.passages(V1) == []

    plant.entry.present(V1)
    plant.wait_until(lambda: _waiting(plant) == 1, what="visitor waiting again")
    plant.entry.present(ESCORT_CARD)
    allowed = plant.wait_decision(V1, 2)
    assert allowed["allowed"] and allowed["escort_id"] == custody.escort_a
    assert plant.wait_passage(V1)["passed"] and plant.wait_passage(ESCORT_CARD)["passed"]
    assert plant.runtime.site.presence.where(visitor).escort_id == custody.escort_a  # type: ignore[union-attr]


def test_R10_one_presentation_confirms_only_that_escorts_waiting_visitors(custody: Custody) -> None:
    plant = custody.plant
    plant.people.visitor(V1)
    plant.people.visitor(V2)
    plant.people.visitor(V3, escort_id=custody.escort_b)
    plant.refresh()
    for card in (V1, V3, V2):
        plant.entry.present(card)
    plant.wait_until(lambda: _waiting(plant) == 3, what="three visitors waiting")
    plant.entry.present(ESCORT_CARD)
    plant.wait_passage(ESCORT_CARD)
    # A's visitors, then A: each released in turn, each a passage of its own.
    assert [p["card"] for p in plant.passages()] == [V1, V2, ESCORT_CARD]
    assert all(p["passed"] for p in plant.passages())
    assert plant.pulses() == 3
    assert plant.wait_decision(ESCORT_CARD)["detail"]["escorting"] == [
        plant.people.seed.visitors[V1],
        plant.people.seed.visitors[V2],
    ]
    assert _waiting(plant) == 1 and plant.decisions(V3) == []  # B's visitor keeps waiting
    plant.entry.present(B_CARD)
    assert plant.wait_decision(V3)["allowed"] and plant.wait_decision(V3)["escort_id"] == custody.escort_b
    plant.wait_passage(B_CARD)
    assert [p["card"] for p in plant.passages()][3:] == [V3, B_CARD]


def test_R10_visitor_2s_after_an_escort_of_another_group_is_denied(custody: Custody) -> None:
    plant = custody.plant
    plant.people.visitor(V3, escort_id=custody.escort_b)
    plant.people.visitor(V1)  # the form names A
    plant.refresh()
    plant.entry.present(V3)
    plant.entry.present(B_CARD)  # B escorts their own group in
    plant.wait_passage(V3)
    t_b = plant.wait_passage(B_CARD)["at"]
    presented_b = datetime.fromisoformat(t_b) - timedelta(seconds=0.2)
    time.sleep(max(0.0, 2.0 - (datetime.now(UTC) - presented_b).total_seconds()))  # the scenario: 2 s later
    plant.entry.present(V1)  # B is within the window, but is not V1's escort of record
    plant.wait_until(lambda: _waiting(plant) == 1, what="V1 waiting for their own escort")
    d = plant.wait_decision(V1)
    assert not d["allowed"] and _rules(d) == ["R10"] and d["escort_id"] is None
    assert "Wang Wei" in d["reasons"][0]["message"]
    assert plant.passages(V1) == [] and plant.pulses() == 2


def test_R10_escort_leaving_opens_an_unescorted_alert_within_1s_and_C_takes_over(custody: Custody) -> None:
    plant = custody.plant
    visitor = plant.people.visitor(V1)
    plant.refresh()
    plant.entry.present(V1)
    plant.entry.present(ESCORT_CARD)
    plant.wait_passage(ESCORT_CARD)
    plant.wait_until(lambda: visitor in plant.runtime.site.snapshot.presence, what="visitor inside, centrally")

    plant.exit.present(ESCORT_CARD)  # A walks out and leaves the visitor inside
    exit_passage = plant.wait_passage(ESCORT_CARD, 2)
    assert exit_passage["passed"] and exit_passage["direction"] == "out"
    alerts = plant.wait_until(
        lambda: custody.alerts(kind="unescorted", state="open"), timeout=1.0, what="unescorted alert open"
    )
    (alert,) = alerts
    assert alert.person_id == visitor and alert.escort_id == custody.escort_a and alert.zone == "smelting"
    assert alert.department == "steelmaking" and alert.audience == "safety"
    assert (alert.opened_at - datetime.fromisoformat(exit_passage["at"])).total_seconds() < 1.0
    # R18: the alert is a journal event like any other, shipped to the central table.
    journalled = central_events(plant.engine, kind="alert")
    assert [e["detail"]["visitors"] for e in journalled] == [[visitor]]

    # The escort who left, the zone's safety officer and the other escorts see it.
    for who in ("A", "officer", "C"):
        listed = custody.api("GET", "/alerts?state=open&kind=unescorted", who).get_json()
        assert [(a["id"], a["person"]["id"], a["escort"]["id"]) for a in listed] == [
            (alert.id, visitor, custody.escort_a)
        ], who
    assert custody.api("POST", f"/alerts/{alert.id}/take-over", "A", json={}).status_code == 422  # A left

    resp = custody.api("POST", f"/alerts/{alert.id}/take-over", "C", json={})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["closed_at"] is not None
    assert custody.alerts(kind="unescorted", state="open") == []
    with session_factory(plant.engine)() as s:
        presence = s.get(Presence, visitor)
        assert presence is not None and presence.escort_id == custody.escort_c
        substitute = s.scalars(
            select(ContactFormEscort)
            .join(ContactForm, ContactForm.id == ContactFormEscort.form_id)
            .where(ContactForm.visitor_id == visitor, ContactFormEscort.employee_id == custody.escort_c)
        ).one()
        assert substitute.substitute and substitute.added_by == custody.escort_c
    # The gates see the new charge: C's exit would now leave the visitor unescorted, A's not.
    plant.wait_until(
        lambda: getattr(plant.runtime.site.presence.where(visitor), "escort_id", None) == custody.escort_c,
        what="controller sees C in charge",
    )
    assert plant.runtime.site.presence.charge(custody.escort_c) == 1
    # ... and C is now an escort of record of the visitor: C may bring them in next time.
    plant.wait_until(
        lambda: any(f.names_escort(custody.escort_c) for f in plant.runtime.site.snapshot.by_card[V1].forms),
        what="controller sees C on the visitor's form",
    )
    assert custody.api("POST", f"/alerts/{alert.id}/take-over", "C", json={}).status_code == 409  # closed


def test_R10_unescorted_alert_closes_when_the_visitor_leaves(custody: Custody) -> None:
    plant = custody.plant
    visitor = plant.people.visitor(V1)
    plant.refresh()
    plant.entry.present(V1)
    plant.entry.present(ESCORT_CARD)
    plant.wait_passage(ESCORT_CARD)
    plant.exit.present(ESCORT_CARD)
    plant.wait_until(lambda: custody.alerts(kind="unescorted", state="open"), timeout=2, what="alert open")
    plant.exit.present(V1)  # exits always release (R16)
    assert plant.wait_passage(V1, 2)["passed"]
    (closed,) = plant.wait_until(lambda: custody.alerts(kind="unescorted", state="closed"), what="alert closed")
    assert closed.person_id == visitor and closed.closed_by is None and closed.close_note == "the visitor left the zone"


def _ban(plant: Plant, person_id: int) -> None:
    with session_factory(plant.engine)() as s:
        s.add(Ban(person_id=person_id, until=date.today() + timedelta(days=3), reason="test ban"))
        record_change(s, person_id, "ban")
        s.commit()


def test_R17_banned_employee_is_denied_at_the_gate_and_as_an_escort(custody: Custody) -> None:
    plant = custody.plant
    plant.people.visitor(V1)  # A is the escort of record
    _ban(plant, custody.escort_a)
    plant.refresh()
    plant.entry.present(V1)
    plant.wait_until(lambda: _waiting(plant) == 1, what="visitor waiting")
    plant.entry.present(ESCORT_CARD)
    visitor = plant.wait_decision(V1)
    assert not visitor["allowed"] and [r["code"] for r in visitor["reasons"]] == ["escort-banned"]
    assert _rules(visitor) == ["R17"]
    own = plant.wait_decision(ESCORT_CARD)
    assert not own["allowed"] and _rules(own) == ["R17"]
    plant.entry.present(ESCORT_CARD)  # alone: their own entry
    assert _rules(plant.wait_decision(ESCORT_CARD, 2)) == ["R17"]
    assert plant.pulses() == 0 and plant.passages() == []


def test_R21_incident_person_is_denied_while_the_incident_is_open_and_allowed_after(custody: Custody) -> None:
    plant = custody.plant
    visitor = plant.people.visitor(V1)
    now = datetime.now(UTC)
    with session_factory(plant.engine)() as s:
        incident = Incident(
            category="A",
            summary="complaint at the gate",
            arrived_at=now,
            recorded_by=plant.people.seed.officer_id,
            recorded_at=now,
            routed_to="customer-service",
            report_due=now.date() + timedelta(days=4),
        )
        incident.people.append(IncidentPerson(name="Visitor", person_id=visitor))
        s.add(incident)
        record_change(s, visitor, "incident")
        s.commit()
        incident_id = incident.id
    plant.refresh()
    plant.entry.present(ESCORT_CARD)
    plant.entry.present(V1)
    d = plant.wait_decision(V1)
    assert not d["allowed"] and _rules(d) == ["R21"]
    assert plant.passages(V1) == []

    with session_factory(plant.engine)() as s:
        closing = s.get(Incident, incident_id)
        assert closing is not None
        closing.state = "closed"
        record_change(s, visitor, "incident")
        s.commit()
    plant.refresh()
    plant.entry.present(ESCORT_CARD)  # A, inside since, presents at the gate again for the visitor
    plant.entry.present(V1)
    allowed = plant.wait_decision(V1, 2)
    assert allowed["allowed"] and allowed["reasons"] == [] and allowed["escort_id"] == custody.escort_a
    assert plant.wait_passage(V1)["passed"]
