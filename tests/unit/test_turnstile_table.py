"""The turnstile state table: legal transitions return actions, illegal ones raise."""

from __future__ import annotations

import pytest

from controller.turnstile import IllegalTransition, TState, TurnstileMachine


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


def test_faulted_gate_cannot_release_until_recovered() -> None:
    m = TurnstileMachine()
    m.fire("fault")
    assert not m.can("release")
    with pytest.raises(IllegalTransition):
        m.fire("release")
    m.fire("recovered")
    assert m.can("release")


def test_R16_emergency_from_any_state_and_clear() -> None:
    for before in ("ready", "released", "faulted"):
        m = TurnstileMachine()
        if before == "released":
            m.fire("release")
        if before == "faulted":
            m.fire("fault")
        assert "hold" in m.fire("emergency")
        assert m.state is TState.EMERGENCY
        assert not m.can("release")
        assert m.fire("clear") == ("release_hold",)
        assert m.state is TState.READY


def test_passage_without_release_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        TurnstileMachine().fire("passed")
