"""GET /events pages by time (issue 12): newest first by ``(at, id)`` with a keyset cursor on
both, so every filter's index ends in ``(at, id)`` and a filter with an old time window
("one gate in June") is one index range instead of a walk back from today through the
filter's ``(x, id)`` index. ``(at)`` becomes ``(at, id)`` for the unfiltered pages. Chosen
from EXPLAIN ANALYZE on PostgreSQL with 10,000,000 events (README "Scale"); the denials
index of 0005 stays (the monthly statistics).

On PostgreSQL the indexes are built and dropped CONCURRENTLY, outside the migration's
transaction, so controllers go on shipping events into the table meanwhile (minutes at
10,000,000 events); an index a failed build left invalid is dropped and built again.

Revision ID: 0008_event_time_indexes
Revises: 0007_employee_login
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_event_time_indexes"
down_revision = "0007_employee_login"
branch_labels = None
depends_on = None

_FILTERS = ("gate", "zone", "card", "kind", "person_id")
_NEW = {"ix_events_at_id": ["at", "id"], **{f"ix_events_{c}_at_id": [c, "at", "id"] for c in _FILTERS}}
_OLD = {"ix_events_at": ["at"], **{f"ix_events_{c}_id": [c, "id"] for c in _FILTERS}}


def _swap(create: dict[str, list[str]], drop: dict[str, list[str]]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name, columns in create.items():
            op.create_index(name, "events", columns)
        for name in drop:
            op.drop_index(name, table_name="events")
        return
    with op.get_context().autocommit_block():  # CONCURRENTLY cannot run inside a transaction
        bind = op.get_bind()
        for name, columns in create.items():
            valid = bind.execute(
                sa.text(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :n"
                ),
                {"n": name},
            ).scalar()
            if valid is False:  # left behind by an interrupted build
                op.drop_index(name, table_name="events", postgresql_concurrently=True)
            op.create_index(name, "events", columns, postgresql_concurrently=True, if_not_exists=True)
        for name in drop:
            op.drop_index(name, table_name="events", postgresql_concurrently=True, if_exists=True)


def upgrade() -> None:
    _swap(_NEW, _OLD)


def downgrade() -> None:
    _swap(_OLD, _NEW)
