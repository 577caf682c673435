"""The readiness checklist sorts the engine's decision by rule and adds nothing of its own
(zones.services.readiness): every reason lands under its rule, a rule the engine did not
reach (R7, R9 while R8 fails) is not ticked, and the zone's configuration decides which
optional rules are listed (R9 high-risk, R12 helmet, R14 hours)."""

from __future__ import annotations

from datetime import time

from zones.facts import Decision, Reason, TimeWindow, Zone
from zones.messages import reason
from zones.services.readiness import CHECKS, _checklist

SMELTING = Zone("smelting", "Smelting workshop", "steelmaking", "high-risk", True, 40, TimeWindow(time(6), time(22)))
ASSEMBLY = Zone("assembly", "Assembly hall", "assembly")


def lines(zone: Zone, *reasons: Reason) -> dict[str, tuple[bool, tuple[str, ...], str | None]]:
    d = Decision(not reasons, tuple(reasons))
    return {c.rule: (c.passed, tuple(r.code for r in c.reasons), c.waits_for) for c in _checklist(zone, d)}


def test_an_allowed_decision_ticks_every_rule_the_zone_calls_for() -> None:
    assert all(passed for passed, _, _ in lines(SMELTING).values())
    assert list(lines(SMELTING)) == list(CHECKS)  # R9, R12 and R14 apply to smelting
    assert {"R9", "R12", "R14"}.isdisjoint(lines(ASSEMBLY))  # a general zone, no helmet, no hours


def test_each_reason_is_crossed_under_its_rule_and_none_is_lost() -> None:
    got = lines(
        ASSEMBLY,
        reason("no-form", zone="Assembly hall", department="assembly"),
        reason("no-escort", window="10", escorts="-"),
        reason("night-escort", night="20:00-07:00"),  # R14, not listed for a zone without hours
        reason("gate-fault"),  # F1: not a rule the checklist knows; still a cross
    )
    assert got["R5"] == (False, ("no-form",), None)
    assert got["R10"] == (False, ("no-escort",), None)
    assert got["R14"] == (False, ("night-escort",), None)
    assert got["F1"] == (False, ("gate-fault",), None)
    assert got["R1"] == (True, (), None)


def test_the_notification_card_waits_for_valid_education() -> None:
    got = lines(SMELTING, reason("no-education", department="steelmaking"))
    assert got["R8"] == (False, ("no-education",), None)
    assert got["R7"] == (False, (), "R8") and got["R9"] == (False, (), "R8")
    got = lines(SMELTING, reason("no-notification-card", zone="Smelting workshop"))
    assert got["R7"][:2] == (False, ("no-notification-card",)) and got["R9"] == (False, (), "R7")
