"""The controller's on-disk snapshot cache keeps every card, including lost ones (R3), and is
loaded only when signed with the site's key (issue 10: unpickling runs code)."""

from __future__ import annotations

import logging
import os
import pickle
import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.snapshot_cache import MAGIC, cache_key, load, save
from zones.facts import PersonFacts
from zones.snapshot import PresenceFact, Snapshot

KEY = b"k" * 32


def _snapshot() -> Snapshot:
    at = datetime(2026, 11, 24, 2, tzinfo=UTC)
    person = PersonFacts(person_id=1, kind="visitor", name="V1", card="C1")
    return Snapshot(
        change_no=1,
        built_at=at,
        by_card={"C1": person},
        by_id={1: person},
        presence={},
        emergency=False,
        emergency_since=None,
        lost_cards={},
    )


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
    save(snap, tmp_path / "s.cache", KEY)
    back = load(tmp_path / "s.cache", KEY)
    assert back is not None
    assert back.by_card == by_card and back.by_id == by_id
    assert back.by_card["LOST7"].badge == "lost" and back.by_card["C7"].badge == "active"
    assert back.by_card["C5"] is back.by_id[5]  # one object per person, as in a built snapshot
    assert (back.change_no, back.emergency, back.presence[3].zone) == (42, True, "smelting")


def test_missing_or_damaged_cache_is_none(tmp_path: Path) -> None:
    assert load(tmp_path / "none.cache", KEY) is None
    (tmp_path / "bad.cache").write_bytes(b"not a pickle")
    assert load(tmp_path / "bad.cache", KEY) is None


class _Boom:
    """Unpickling this runs code: what a tampered cache would do."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch PWNED",))


def test_cache_is_private_and_signed(tmp_path: Path) -> None:
    save(_snapshot(), tmp_path / "s.cache", KEY)
    assert stat.S_IMODE(os.stat(tmp_path / "s.cache").st_mode) == 0o600
    assert (tmp_path / "s.cache").read_bytes().startswith(MAGIC)
    assert load(tmp_path / "s.cache", b"another site's key 0123456789abc") is None


def test_unsigned_or_tampered_cache_is_ignored_with_a_warning_never_unpickled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # an old-style unsigned pickle, as the cache used to be, that runs a command on load
    (tmp_path / "old.cache").write_bytes(pickle.dumps(_Boom()))
    # a signed cache whose payload was then replaced
    save(_snapshot(), tmp_path / "s.cache", KEY)
    data = (tmp_path / "s.cache").read_bytes()
    head = len(MAGIC) + 32
    (tmp_path / "s.cache").write_bytes(data[:head] + pickle.dumps(_Boom()))
    with caplog.at_level(logging.WARNING):
        assert load(tmp_path / "old.cache", KEY) is None
        assert load(tmp_path / "s.cache", KEY) is None
    assert not (tmp_path / "PWNED").exists()
    assert sum("ignored" in r.getMessage() for r in caplog.records) == 2


def test_cache_key_comes_from_the_site_secret(tmp_path: Path) -> None:
    key = cache_key(tmp_path / "secret")
    assert key == cache_key(tmp_path / "secret") != cache_key(tmp_path / "other")
    assert (tmp_path / "secret").read_text().strip().encode() not in key
