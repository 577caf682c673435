"""The controller's on-disk snapshot cache keeps every card, including lost ones (R3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from controller.snapshot_cache import load, save
from zones.facts import PersonFacts
from zones.snapshot import PresenceFact, Snapshot


def test_round_trip_keeps_cards_lost_badges_and_presence(tmp_path: Path) -> None:
    at = datetime(2026, 11, 24, 2, tzinfo=UTC)
    people = [PersonFacts(person_id=i, kind="visitor", name=f"V{i}", card=f"C{i}") for i in range(12_000)]
    by_id = {p.person_id: p for p in people}
    by_card = {p.card: p for p in people if p.card}
    by_card["LOST7"] = replace(people[7], card="LOST7", badge="lost")  # an old, lost badge of person 7
    snap = Snapshot(
        change_no=42,
        built_at=at,
        by_card=by_card,
        by_id=by_id,
        presence={3: PresenceFact(3, "smelting", at, 900, "visitor")},
        emergency=True,
        emergency_since=at,
        lost_cards={7: ("LOST7",)},
    )
    save(snap, tmp_path / "s.cache")
    back = load(tmp_path / "s.cache")
    assert back is not None
    assert back.by_card == by_card and back.by_id == by_id
    assert back.by_card["LOST7"].badge == "lost" and back.by_card["C7"].badge == "active"
    assert back.by_card["C5"] is back.by_id[5]  # one object per person, as in a built snapshot
    assert (back.change_no, back.emergency, back.presence[3].zone) == (42, True, "smelting")


def test_missing_or_damaged_cache_is_none(tmp_path: Path) -> None:
    assert load(tmp_path / "none.cache") is None
    (tmp_path / "bad.cache").write_bytes(b"not a pickle")
    assert load(tmp_path / "bad.cache") is None
