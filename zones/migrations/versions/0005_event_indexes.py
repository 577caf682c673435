"""the central events table at scale (issue 12): one index per GET /events filter, each
ending in ``id`` so that a filtered page is a backward index range scan from the keyset
cursor (``id < cursor ORDER BY id DESC LIMIT n``), and a partial index of denials by time,
carrying their reasons, for the monthly statistics (R19). Chosen from EXPLAIN ANALYZE on PostgreSQL with 10,000,000
events (README "Scale"); the single-column person index becomes (person_id, id).

Revision ID: 0005_event_indexes
Revises: 0004_muster
Create Date: 2026-12-02 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_event_indexes"
down_revision = "0004_muster"
branch_labels = None
depends_on = None

_KEYSET = ("gate", "zone", "card", "kind", "person_id")
_DENIALS = "kind = 'decision' AND allowed = false"


def upgrade() -> None:
    op.drop_index("ix_events_person_id", table_name="events")
    for column in _KEYSET:
        op.create_index(f"ix_events_{column}_id", "events", [column, "id"])
    op.create_index(
        "ix_events_denials_at",
        "events",
        ["at"],
        postgresql_include=["reasons"],  # the statistics read them: an index-only scan
        postgresql_where=sa.text(_DENIALS),
        sqlite_where=sa.text(_DENIALS),
    )


def downgrade() -> None:
    op.drop_index("ix_events_denials_at", table_name="events")
    for column in _KEYSET:
        op.drop_index(f"ix_events_{column}_id", table_name="events")
    op.create_index("ix_events_person_id", "events", ["person_id"])
