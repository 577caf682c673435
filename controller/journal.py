"""The controller's local journal: every read, decision and passage, on disk before the
turnstile moves (R18, design.md "Nothing is lost").

SQLite in WAL mode with ``synchronous=FULL``: ``append`` returns only after the row is
durable, so a controller killed with SIGKILL right after loses nothing it acted on. Rows
are hash-chained (each row's hash covers the previous row's hash and the row's canonical
JSON), so an edited or deleted row is detectable with ``verify`` / ``sitegate audit
verify``. Rows are shipped to the central events table with their ``key`` as the
idempotency key and then marked shipped; they are never updated otherwise. A second,
independent cursor records what the MQTT publisher has delivered (``mqtt_published``): the
journal is the publisher's buffer while the broker is away.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,          -- canonical JSON of the event
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shipped (
    seq INTEGER PRIMARY KEY     -- high-water mark: every seq <= this one reached the centre
);
CREATE TABLE IF NOT EXISTS mqtt_published (
    seq INTEGER PRIMARY KEY     -- high-water mark: every seq <= this one was acknowledged by the broker
);
CREATE TABLE IF NOT EXISTS pruned (
    seq INTEGER PRIMARY KEY,    -- the newest row removed after shipping, and its hash:
    hash TEXT NOT NULL          -- the chain is verified from here on
);
"""


def _canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    key: str
    event: dict[str, Any]


class Journal:
    """An append-only, hash-chained event journal in one SQLite file. Thread-safe."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        row = (
            self._db.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
            or self._db.execute("SELECT seq, hash FROM pruned").fetchone()
        )  # every row pruned
        self._last_seq: int = row[0] if row else 0
        self._last_hash: str = row[1] if row else GENESIS

    def append(self, event: dict[str, Any]) -> Entry:
        """Durably append ``event`` (JSON-serialisable; datetimes as ISO 8601). Adds ``key``
        (the idempotency key) when absent. Returns after the row is on disk."""
        event = dict(event)
        event.setdefault("key", uuid.uuid4().hex)
        body = _canonical(event)
        with self._lock:
            seq = self._last_seq + 1
            digest = chain_hash(self._last_hash, body)
            self._db.execute(
                "INSERT INTO journal(seq, key, body, prev_hash, hash) VALUES (?,?,?,?,?)",
                (seq, event["key"], body, self._last_hash, digest),
            )
            self._last_seq, self._last_hash = seq, digest
        return Entry(seq, event["key"], event)

    def unshipped(self, limit: int = 500) -> list[Entry]:
        """The oldest entries not yet confirmed at the centre, in order."""
        with self._lock:
            mark = self._shipped_mark()
            rows = self._db.execute(
                "SELECT seq, key, body FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", (mark, limit)
            ).fetchall()
        return [Entry(seq, key, json.loads(body)) for seq, key, body in rows]

    def mark_shipped(self, seq: int) -> None:
        """Record that every entry up to ``seq`` reached the central events table."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO shipped(seq) SELECT ? WHERE ? > (SELECT coalesce(max(seq), 0) FROM shipped)",
                (seq, seq),
            )
            self._db.execute("DELETE FROM shipped WHERE seq < ?", (seq,))

    def _shipped_mark(self) -> int:
        row = self._db.execute("SELECT coalesce(max(seq), 0) FROM shipped").fetchone()
        return int(row[0])

    def after(self, seq: int, limit: int = 500) -> list[Entry]:
        """Up to ``limit`` entries after ``seq``, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, key, body FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [Entry(seq, key, json.loads(body)) for seq, key, body in rows]

    def mqtt_mark(self) -> int:
        """Every entry up to this seq was acknowledged by the MQTT broker (or not for MQTT)."""
        with self._lock:
            return self._mqtt_mark()

    def _mqtt_mark(self) -> int:
        row = self._db.execute("SELECT coalesce(max(seq), 0) FROM mqtt_published").fetchone()
        return int(row[0])

    def mark_mqtt_published(self, seq: int) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO mqtt_published(seq) VALUES (?)", (seq,))
            self._db.execute("DELETE FROM mqtt_published WHERE seq < ?", (seq,))

    def backlog(self) -> int:
        """How many entries still wait to be shipped."""
        with self._lock:
            return self._last_seq - self._shipped_mark()

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest entry (0 for a new journal); pruning does not
        lower it."""
        with self._lock:
            return self._last_seq

    def prune(self, before: datetime, *, keep_unpublished: bool = False) -> int:
        """Remove shipped rows whose event time is before ``before`` (the central events
        table is the permanent record, R18); the chain stays verifiable from the newest
        removed row's hash. With ``keep_unpublished`` (an MQTT publisher reads this
        journal), rows the broker has not acknowledged stay too: the journal is the MQTT
        buffer, and a broker away longer than the retention must still get every event.
        Returns how many rows were removed."""
        cutoff = before.isoformat()
        with self._lock:
            mark = self._shipped_mark()
            if keep_unpublished:
                mark = min(mark, self._mqtt_mark())
            last = None
            for seq, body, digest in self._db.execute(
                "SELECT seq, body, hash FROM journal WHERE seq <= ? ORDER BY seq", (mark,)
            ):
                if json.loads(body).get("at", "") >= cutoff:
                    break
                last = (seq, digest)
            if last is None:
                return 0
            with self._db:
                self._db.execute("BEGIN")
                count = self._db.execute("DELETE FROM journal WHERE seq <= ?", (last[0],)).rowcount
                self._db.execute("DELETE FROM pruned")
                self._db.execute("INSERT INTO pruned(seq, hash) VALUES (?, ?)", last)
            return int(count)

    def verify(self) -> tuple[bool, int, str]:
        """Walk the chain. Returns (ok, rows checked, problem); the problem names the first
        row whose hash or link does not match (an edited, inserted or deleted row)."""
        with self._lock:
            start = self._db.execute("SELECT seq, hash FROM pruned").fetchone()
        prev, expected_seq, count = (start[1], start[0] + 1, 0) if start else (GENESIS, 1, 0)
        with self._lock:
            rows = self._db.execute("SELECT seq, body, prev_hash, hash FROM journal ORDER BY seq").fetchall()
        for seq, body, prev_hash, digest in rows:
            if seq != expected_seq:
                return False, count, f"row {expected_seq} is missing (next row is {seq})"
            if prev_hash != prev:
                return False, count, f"row {seq}: link to the previous row does not match"
            if chain_hash(prev, body) != digest:
                return False, count, f"row {seq}: content does not match its hash (altered)"
            prev, expected_seq, count = digest, seq + 1, count + 1
        return True, count, ""

    def close(self) -> None:
        with self._lock:
            self._db.close()
