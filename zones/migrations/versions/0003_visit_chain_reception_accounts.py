"""the visit's chain of responsibility (R5, R9, R10, R13, R17), the reception's registers
(R21-R23) and account hardening.

- contact forms name one or more escorts of record (existing forms keep their single
  escort) and carry permissions; each department approves for itself;
- education records name the zones whose hazards were told (R9);
- breaches carry R13's prohibition number and the escort in charge;
- incidents, their people, complaints and follow-ups;
- employees' session generation and password date; API tokens expire and show last use.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import zones.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = zones.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("contact_forms", sa.Column("permissions", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "contact_form_escorts",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("substitute", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(["form_id"], ["contact_forms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"]),
        sa.ForeignKeyConstraint(["added_by"], ["employees.id"]),
        sa.PrimaryKeyConstraint("form_id", "employee_id"),
    )
    op.execute(
        "INSERT INTO contact_form_escorts (form_id, employee_id, substitute) "
        "SELECT id, escort_id, false FROM contact_forms WHERE escort_id IS NOT NULL"
    )
    op.create_table(
        "contact_form_approvals",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["contact_forms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["approved_by"], ["employees.id"]),
        sa.PrimaryKeyConstraint("form_id", "department"),
    )
    op.add_column("education", sa.Column("zones", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("breaches", sa.Column("prohibition", sa.Integer(), nullable=True))
    with op.batch_alter_table("breaches") as batch:
        batch.add_column(sa.Column("escort_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_breaches_escort", "employees", ["escort_id"], ["id"])
    op.add_column("employees", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("employees", sa.Column("password_changed_at", _UTC, nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", _UTC, nullable=True))
    op.add_column("api_tokens", sa.Column("last_used_at", _UTC, nullable=True))

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("arrived_at", _UTC, nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", _UTC, nullable=False),
        sa.Column("routed_to", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("report_due", sa.Date(), nullable=False),
        sa.Column("handled_by", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("report_text", sa.Text(), nullable=True),
        sa.Column("reported_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(["recorded_by"], ["employees.id"]),
        sa.ForeignKeyConstraint(["handled_by"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_incidents_routed_to"), "incidents", ["routed_to"], unique=False)
    op.create_index(op.f("ix_incidents_state"), "incidents", ["state"], unique=False)
    op.create_table(
        "incident_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("id_number", sa.String(length=64), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_incident_people_incident_id"), "incident_people", ["incident_id"], unique=False)
    op.create_index(op.f("ix_incident_people_person_id"), "incident_people", ["person_id"], unique=False)
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column("registered_at", _UTC, nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", _UTC, nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("closed_at", _UTC, nullable=True),
        sa.Column("follow_up_due", _UTC, nullable=True),
        sa.Column("related_to", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["registered_by"], ["employees.id"]),
        sa.ForeignKeyConstraint(["answered_by"], ["employees.id"]),
        sa.ForeignKeyConstraint(["related_to"], ["complaints.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_complaints_department"), "complaints", ["department"], unique=False)
    op.create_index(op.f("ix_complaints_state"), "complaints", ["state"], unique=False)
    op.create_index(op.f("ix_complaints_related_to"), "complaints", ["related_to"], unique=False)
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("by", sa.Integer(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.ForeignKeyConstraint(["by"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_follow_ups_complaint_id"), "follow_ups", ["complaint_id"], unique=False)


def downgrade() -> None:
    op.drop_table("follow_ups")
    op.drop_table("complaints")
    op.drop_table("incident_people")
    op.drop_table("incidents")
    op.drop_column("api_tokens", "last_used_at")
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("employees", "password_changed_at")
    op.drop_column("employees", "session_generation")
    with op.batch_alter_table("breaches") as batch:
        batch.drop_constraint("fk_breaches_escort", type_="foreignkey")
        batch.drop_column("escort_id")
    op.drop_column("breaches", "prohibition")
    op.drop_column("education", "zones")
    op.drop_table("contact_form_approvals")
    op.drop_table("contact_form_escorts")
    op.drop_column("contact_forms", "permissions")
