"""The turnstile state table: legal transitions return actions, illegal ones raise, and
the table in the module's docstring is the one the code runs."""

from __future__ import annotations

import pytest

from controller import turnstile
from controller.turnstile import TABLE, IllegalTransition, TState, TurnstileMachine


def _faulted() -> TurnstileMachine:
    m = TurnstileMachine()
    m.fire("release")
    m.fire("fault")
    return m


def test_release_then_passage_returns_to_ready() -> None:
    m = TurnstileMachine()
    assert m.fire("release") == ("pulse",)
    assert m.state is TState.RELEASED
    assert m.fire("passed") == ("record_passed",)
    assert m.state is TState.READY


def test_nobody_passed_is_recorded() -> None:
    m = TurnstileMachine()
    m.fire("release")
    assert m.fire("timeout") == ("record_not_passed",)


def test_fault_during_a_release_records_the_fault_and_the_passage_not_made() -> None:
    m = TurnstileMachine()
    m.fire("release")
    assert m.fire("fault") == ("record_fault", "record_not_passed")
    assert m.state is TState.FAULTED


def test_faulted_gate_cannot_release_until_recovered() -> None:
    m = _faulted()
    assert not m.can("release")
    with pytest.raises(IllegalTransition):
        m.fire("release")
    assert m.fire("recovered") == ("record_recovered",)
    assert m.can("release")


def test_R16_emergency_from_any_state_and_clear() -> None:
    for before in ("ready", "released", "faulted", "emergency"):
        m = TurnstileMachine()
        if before == "released":
            m.fire("release")
        if before == "faulted":
            m = _faulted()
        if before == "emergency":
            m.fire("emergency")
        actions = m.fire("emergency")
        assert actions[0] == "record_emergency" and actions[-1] == "hold"
        assert ("record_not_passed" in actions) == (before == "released")
        assert m.state is TState.EMERGENCY
        assert not m.can("release")
        assert m.fire("recovered") == ("hold",)  # the probe writes the hold again
        assert m.state is TState.EMERGENCY
        assert m.fire("clear") == ("record_clear", "release_hold")
        assert m.state is TState.READY


def test_passage_without_release_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        TurnstileMachine().fire("passed")
    with pytest.raises(IllegalTransition):
        TurnstileMachine().fire("clear")


def test_the_docstring_table_is_the_table() -> None:
    doc = turnstile.__doc__ or ""
    lines = doc.split("state      event")[1].split("\n\n")[0].splitlines()[1:]
    documented = {}
    for line in lines:
        state, event, nxt, *actions = line.replace(",", " ").split()
        documented[(TState(state), event)] = (TState(nxt), tuple(actions))
    assert documented == TABLE
