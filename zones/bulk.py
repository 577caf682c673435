"""Bulk reading for zones.snapshot: raw driver rows in batches, a merge join over streams
ordered by person id, one shared object per distinct value, and keeping the garbage
collector out of the way of millions of new objects; for a refresh, SQL rendered once and
run with the changed ids filled in (``only``, ``bind_ids``, ``fetch``). No knowledge of the
facts here."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from zones.facts import EMPTY

K = TypeVar("K")
BATCH = 2_000  # rows per fetch: small batches keep transient memory (and fragmentation) low


class Interner:
    """Returns one shared instance per distinct value (frozensets, dates, facts)."""

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {(): (), EMPTY: EMPTY}
        self._zone_text: dict[str | None, frozenset[str]] = {None: EMPTY, "": EMPTY}
        self._days: dict[Any, date] = {}
        self._moments: dict[Any, datetime] = {}
        self._numbers: dict[int, int] = {}

    def __call__(self, value: K) -> K:
        return self._seen.setdefault(value, value)

    def day(self, value: Any) -> date | None:
        """A date from the driver (SQLite: ISO text), one shared object per distinct day."""
        if value is None:
            return None
        got = self._days.get(value)
        if got is None:
            got = self._days[value] = date.fromisoformat(value) if isinstance(value, str) else value
        return got

    def moment(self, value: Any) -> datetime | None:
        """An aware UTC datetime from the driver (SQLite stores naive UTC text, zones.db),
        shared between equal values."""
        if value is None:
            return None
        got = self._moments.get(value)
        if got is None:
            if isinstance(value, str):
                got = datetime.fromisoformat(value).replace(tzinfo=UTC)
            else:
                got = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
            self._moments[value] = got
        return got

    def number(self, value: int | None) -> int | None:
        """Employee ids repeat across visitors (host, escort): one int object each."""
        if value is None:
            return None
        return self._numbers.setdefault(value, value)

    def fact(self, cls: type[K], values: tuple[Any, ...]) -> K:
        """One shared ``cls(*values)`` per distinct values (hashing a tuple is cheap,
        hashing a frozen dataclass is not)."""
        key = (cls, *values)
        got = self._seen.get(key)
        if got is None:
            got = self._seen[key] = cls(*values)
        return got

    def json_zones(self, value: Any) -> frozenset[str]:
        """A frozenset from a JSON list of zone ids (SQLite gives the text, psycopg the list)."""
        if isinstance(value, str):
            value = json.loads(value)
        return self(frozenset(value)) if value else EMPTY

    def zones(self, joined: str | None) -> frozenset[str]:
        """A frozenset from a comma-joined aggregate, shared between equal sets."""
        got = self._zone_text.get(joined)
        if got is None:
            got = self(frozenset(joined.split(",")))  # type: ignore[union-attr]
            self._zone_text[joined] = got
        return got


def zone_agg(dialect: str, owner: Any, zone: Any, only: ColumnElement[bool] | None = None) -> Any:
    """``owner -> "z1,z2"`` as a subquery (filtered by ``only`` for a partial rebuild, so the
    database does not aggregate every row to refresh one person)."""
    agg = func.string_agg(zone, ",") if dialect == "postgresql" else func.group_concat(zone, ",")
    return where(select(owner.label("owner"), agg.label("zones")), only).group_by(owner).subquery()


AnySelect = Select[*tuple[Any, ...]]


def rows(session: Session, stmt: AnySelect, *, stream: bool = True) -> Iterator[tuple[Any, ...]]:
    """Raw driver tuples in batches, skipping SQLAlchemy's per-row work (a full build reads
    millions of rows). The statement is rendered with literal values (only fixed strings,
    dates and integer ids); dates and times come back as the driver gives them and are
    converted by ``Interner.day`` / ``Interner.moment``. PostgreSQL streams through a
    server-side cursor.

    ``stream=False`` for the few rows of a few persons (a refresh, the handheld lookup):
    an ordinary execution, whose compiled form SQLAlchemy caches, in one round trip; a
    server-side cursor and a statement rendered afresh cost more than the rows then."""
    if not stream:
        yield from session.execute(stmt)
        return
    conn = session.connection()
    sql = render(session, stmt)
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        rows.counter += 1  # type: ignore[attr-defined]
        cur = raw.cursor(name=f"sitegate_snapshot_{rows.counter}")  # type: ignore[attr-defined]
        sql = sql.replace("%%", "%")  # rendered for a driver that would substitute parameters
    else:
        cur = raw.cursor()
    try:
        cur.execute(sql)
        while batch := cur.fetchmany(BATCH):
            yield from batch
    finally:
        cur.close()


rows.counter = 0  # type: ignore[attr-defined]


def where(stmt: AnySelect, cond: ColumnElement[bool] | None) -> AnySelect:
    return stmt if cond is None else stmt.where(cond)


def param(dialect: str, name: str) -> str:
    """A named parameter in the raw driver's style (sqlite3: ``:name``, psycopg: ``%(name)s``)."""
    return f"%({name})s" if dialect == "postgresql" else f":{name}"


_IDS_MARK = -7_305_105_551  # no id is negative: the rendered ``IN (<mark>)`` is where the ids go


def only(partial: bool, column: Any) -> ColumnElement[bool] | None:
    """The filter of a partial read (``column`` among the ids given at execution, see
    ``bind_ids``), or none."""
    return column.in_([_IDS_MARK]) if partial else None


def bind_ids(dialect: str, sql: str, ids: set[int]) -> tuple[str, dict[str, Any]]:
    """SQL text rendered with ``only`` filters, and its parameters, for ``fetch``. The SQL
    text stays the same for any number of persons, so a refresh renders its statements once
    and never builds or compiles SQL again (that was most of its time). PostgreSQL binds the
    ids as one array parameter (the driver may keep the statement prepared); SQLite gets
    them inlined as a literal list: its planner does not know how few rows a table-valued
    parameter (json_each) holds, and scanned the big tables instead of their indexes."""
    mark = f"IN ({_IDS_MARK})"
    assert mark in sql, "rendered without an only() filter"
    if dialect == "postgresql":
        return sql.replace(mark, "= ANY(%(ids)s::bigint[])"), {"ids": sorted(ids)}
    return sql.replace(mark, "IN (" + ",".join(str(int(i)) for i in sorted(ids)) + ")"), {}


def render(session: Session, stmt: AnySelect) -> str:
    """``stmt`` as SQL text with its values inlined (only fixed strings, dates and integer
    ids), for ``rows`` and ``fetch``."""
    dialect = session.get_bind().dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}))
    return sql


def fetch(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """All rows of a small query, raw driver tuples (as ``rows``): a client-side cursor,
    no SQLAlchemy work per call."""
    return fetch_many(session, [(sql, params)])[0]


def fetch_many(session: Session, queries: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[Any, ...]]]:
    """The rows of each query, in one round trip to PostgreSQL (pipeline mode: the queries
    go out together and the server answers them in order). On a busy machine each round
    trip waits for the server process to be scheduled, so ten sequential queries cost ten
    of those waits; SQLite runs in-process and simply runs them one after the other."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cursors = [raw.cursor() for _ in queries]
    try:
        if session.get_bind().dialect.name != "postgresql":
            return [
                list(cur.execute(sql, params).fetchall()) for cur, (sql, params) in zip(cursors, queries, strict=True)
            ]
        with raw.pipeline():
            for cur, (sql, params) in zip(cursors, queries, strict=True):
                cur.execute(sql, params, prepare=True)  # parsed and planned once per connection
        return [list(cur.fetchall()) for cur in cursors]
    finally:
        for cur in cursors:
            cur.close()


class Merge:
    """Rows of a stream ordered by person id, handed out person by person (a merge join:
    no per-person dictionary of side facts is ever built)."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]):
        self._rows = rows
        self._row = next(rows, None)

    def take(self, pid: int) -> list[tuple[Any, ...]]:
        out = []
        row = self._row
        while row is not None and row[0] <= pid:
            if row[0] == pid:
                out.append(row)
            row = next(self._rows, None)
        self._row = row
        return out

    def close(self) -> None:
        close = getattr(self._rows, "close", None)  # a generator of ``rows``; a list iterator has none
        if close is not None:
            close()


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """For a full build: collect garbage, pause the cyclic garbage collector while millions
    of fact objects are made, then move everything alive into the permanent generation
    (gc.freeze).

    Without this, the build rescans all of them every few thousand allocations, and the
    first full collection after it walks every fact: seconds during which no gate decides.
    Facts are acyclic, so reference counting still frees an old snapshot's objects; the
    collection first keeps other code's cyclic garbage from being frozen with them.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def return_freed_memory() -> None:
    """Give the C heap's free pages back to the OS after a full build (glibc only): the
    database driver's sort buffers are freed but otherwise stay in the process's RSS."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
