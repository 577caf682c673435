"""who marked a person accounted for at the muster, and when (R16: "marked by wang 06:53"),
for people inside a zone (presence) and visitors on site outside the gated zones (visits).
The emergency's own actor and reason go into the events table's ``detail`` (no column).

Revision ID: 0006_emergency_actor
Revises: 0005_event_indexes
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import zones.db

revision = "0006_emergency_actor"
down_revision = "0005_event_indexes"
branch_labels = None
depends_on = None

_UTC = zones.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    for table in ("presence", "visits"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("accounted_by", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("accounted_at", _UTC, nullable=True))


def downgrade() -> None:
    for table in ("presence", "visits"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("accounted_at")
            batch.drop_column("accounted_by")
