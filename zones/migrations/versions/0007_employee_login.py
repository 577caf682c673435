"""an employee's sign-in name apart from their name: pages show "Zhao Lei", who signs in as
"zhao" (issue 13: names, not logins). Nullable: without one the name is the sign-in name.

Revision ID: 0007_employee_login
Revises: 0006_emergency_actor
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_employee_login"
down_revision = "0006_emergency_actor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("employees") as batch:
        batch.add_column(sa.Column("login", sa.String(length=100), nullable=True))
        batch.create_unique_constraint("uq_employees_login", ["login"])


def downgrade() -> None:
    with op.batch_alter_table("employees") as batch:
        batch.drop_constraint("uq_employees_login", type_="unique")
        batch.drop_column("login")
