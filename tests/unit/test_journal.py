"""The local journal: durable, ordered, hash-chained, shipped once (R18)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from controller.journal import Journal


def _event(i: int) -> dict[str, object]:
    return {
        "at": datetime(2026, 11, 24, 2, 0, i, tzinfo=UTC),
        "gate": "g1",
        "kind": "decision",
        "card": f"C{i}",
        "allowed": i % 2 == 0,
        "reasons": [{"rule": "R8", "message": "x"}],
    }


def test_appended_events_survive_reopen_in_order(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    keys = [j.append(_event(i)).key for i in range(5)]
    j.close()
    j2 = Journal(tmp_path / "j.db")
    assert j2.last_seq == 5
    assert [e.key for e in j2.unshipped()] == keys
    assert [e.event["card"] for e in j2.unshipped()] == [f"C{i}" for i in range(5)]
    assert j2.append(_event(9)).seq == 6  # the sequence continues after a restart
    assert j2.verify() == (True, 6, "")


def test_shipping_mark_leaves_only_the_rest(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    for i in range(4):
        j.append(_event(i))
    j.mark_shipped(3)
    assert [e.seq for e in j.unshipped()] == [4] and j.backlog() == 1
    j.mark_shipped(2)  # an older mark never moves it back
    assert j.backlog() == 1


def test_R18_altered_row_is_detected(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    for i in range(3):
        j.append(_event(i))
    j.close()
    db = sqlite3.connect(tmp_path / "j.db")
    db.execute("UPDATE journal SET body = replace(body, '\"allowed\":false', '\"allowed\":true') WHERE seq = 2")
    db.commit()
    db.close()
    ok, checked, problem = Journal(tmp_path / "j.db").verify()
    assert not ok and checked == 1 and "row 2" in problem and "altered" in problem


def test_R18_deleted_row_is_detected(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    for i in range(3):
        j.append(_event(i))
    j.close()
    db = sqlite3.connect(tmp_path / "j.db")
    db.execute("DELETE FROM journal WHERE seq = 2")
    db.commit()
    db.close()
    ok, _, problem = Journal(tmp_path / "j.db").verify()
    assert not ok and "row 2 is missing" in problem


def test_journal_is_durable_wal_with_full_sync(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_prune_removes_only_shipped_old_rows_and_the_chain_still_verifies(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    for i in range(6):
        j.append(_event(i))  # events at 02:00:00 .. 02:00:05
    j.mark_shipped(4)
    cutoff = datetime(2026, 11, 24, 2, 0, 3, tzinfo=UTC)
    assert j.prune(cutoff) == 3  # rows 1-3: shipped and older than the cutoff
    assert j.verify() == (True, 3, "")
    assert [e.seq for e in j.unshipped()] == [5, 6]
    assert j.prune(datetime(2030, 1, 1, tzinfo=UTC)) == 1  # row 4; 5 and 6 are not shipped
    j.mark_shipped(6)
    assert j.prune(datetime(2030, 1, 1, tzinfo=UTC)) == 2
    j.close()
    j2 = Journal(tmp_path / "j.db")  # every row pruned: the sequence and chain go on
    assert j2.last_seq == 6
    assert j2.append(_event(9)).seq == 7
    assert j2.verify() == (True, 1, "")


def test_prune_keeps_rows_the_mqtt_broker_has_not_acknowledged(tmp_path: Path) -> None:
    """The journal is the MQTT buffer: a broker away longer than the retention still gets
    every event once it is back, so pruning stops at the broker's cursor too."""
    j = Journal(tmp_path / "j.db")
    for i in range(6):
        j.append(_event(i))
    j.mark_shipped(6)
    j.mark_mqtt_published(2)
    late = datetime(2030, 1, 1, tzinfo=UTC)
    assert j.prune(late, keep_unpublished=True) == 2  # rows 1-2: shipped and published
    assert [e.seq for e in j.after(j.mqtt_mark())] == [3, 4, 5, 6]  # still there to publish
    j.mark_mqtt_published(6)
    assert j.prune(late, keep_unpublished=True) == 4
    assert j.verify() == (True, 0, "")


def test_R18_tampering_after_a_prune_is_still_detected(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    for i in range(4):
        j.append(_event(i))
    j.mark_shipped(2)
    j.prune(datetime(2030, 1, 1, tzinfo=UTC))
    j.close()
    db = sqlite3.connect(tmp_path / "j.db")
    db.execute("UPDATE journal SET body = replace(body, 'C3', 'C9') WHERE seq = 4")
    db.commit()
    db.close()
    ok, _, problem = Journal(tmp_path / "j.db").verify()
    assert not ok and "row 4" in problem
