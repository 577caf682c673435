"""the muster lists every visitor on site (R16): visitors checked in but not inside a gated
zone are marked accounted for on their visit.

Revision ID: 0004_muster
Revises: 0003
Create Date: 2026-12-02 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_muster"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("accounted", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("accounted")
