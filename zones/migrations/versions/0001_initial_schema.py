"""initial schema: people, visits, badges, forms, education, helmets, breaches, events, presence,
change sequence; triggers that keep audit records (R18) and notification cards (R7) unaltered.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 06:04:57.911938
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import zones.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("no"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_changes_person_id"), "changes", ["person_id"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gate", sa.String(length=64), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("controller", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("card", sa.String(length=64), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("escort_id", sa.Integer(), nullable=True),
        sa.Column("allowed", sa.Boolean(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("direction", sa.String(length=3), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(op.f("ix_events_at"), "events", ["at"], unique=False)
    op.create_index(op.f("ix_events_person_id"), "events", ["person_id"], unique=False)
    op.create_table(
        "gate_health",
        sa.Column("gate_id", sa.String(length=64), nullable=False),
        sa.Column("controller", sa.String(length=64), nullable=False),
        sa.Column("updated_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("snapshot_age_s", sa.Double(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("gate_id"),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column(
            "created_at",
            zones.db.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "site_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("emergency_active", sa.Boolean(), nullable=False),
        sa.Column("emergency_since", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("emergency_reason", sa.Text(), nullable=True),
        sa.Column("emergency_source", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("card", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("dispatch_room", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card"),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("head_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["head_id"], ["employees.id"], name="fk_departments_head"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "presence",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("entered_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escort_id", sa.Integer(), nullable=True),
        sa.Column("accounted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_index(op.f("ix_presence_zone"), "presence", ["zone"], unique=False)
    op.create_table(
        "visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("id_type", sa.String(length=20), nullable=False),
        sa.Column("id_number", sa.String(length=64), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["id"], ["persons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_visitors_id", "visitors", ["id_type", "id_number"], unique=True)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("created", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index(op.f("ix_api_tokens_employee_id"), "api_tokens", ["employee_id"], unique=False)
    op.create_table(
        "contact_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("escort_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("valid_from", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outside_hours", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["escort_id"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_contact_forms_visitor_id"), "contact_forms", ["visitor_id"], unique=False)
    op.create_table(
        "education",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("delivered_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("educator_id", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("notification_signed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["educator_id"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_education_visitor_id"), "education", ["visitor_id"], unique=False)
    op.create_table(
        "employee_access_zones",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("employee_id", "zone"),
    )
    op.create_table(
        "employee_escort_zones",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("employee_id", "zone"),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("expected_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("booked_ahead", sa.Boolean(), nullable=False),
        sa.Column("walk_in_approved_by", sa.Integer(), nullable=True),
        sa.Column("walk_in_reason", sa.Text(), nullable=True),
        sa.Column("created_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flagged", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["walk_in_approved_by"],
            ["employees.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_visits_visitor_id"), "visits", ["visitor_id"], unique=False)
    op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("issued_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("returned_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lost_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_badges_card"), "badges", ["card"], unique=False)
    op.create_index(op.f("ix_badges_visitor_id"), "badges", ["visitor_id"], unique=False)
    op.create_index(
        "ux_badges_active_card",
        "badges",
        ["card"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_index(
        "ux_badges_active_visitor",
        "badges",
        ["visitor_id"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "breaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=10), nullable=False),
        sa.Column("severity", sa.String(length=15), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("seen_by", sa.Integer(), nullable=False),
        sa.Column("at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.ForeignKeyConstraint(
            ["seen_by"],
            ["employees.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_breaches_person_id"), "breaches", ["person_id"], unique=False)
    op.create_table(
        "contact_form_zones",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["contact_forms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("form_id", "zone"),
    )
    op.create_table(
        "helmets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("helmet_no", sa.String(length=32), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("returned_at", zones.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_helmets_visitor_id"), "helmets", ["visitor_id"], unique=False)
    op.create_index(
        "ux_helmets_out_no",
        "helmets",
        ["helmet_no"],
        unique=True,
        sqlite_where=sa.text("returned_at IS NULL"),
        postgresql_where=sa.text("returned_at IS NULL"),
    )
    op.create_index(
        "ux_helmets_out_visitor",
        "helmets",
        ["visitor_id"],
        unique=True,
        sqlite_where=sa.text("returned_at IS NULL"),
        postgresql_where=sa.text("returned_at IS NULL"),
    )
    op.create_table(
        "notification_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("education_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("signed_at", zones.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["education_id"],
            ["education.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("education_id"),
    )
    op.create_table(
        "bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["breach_id"],
            ["breaches.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_bans_person_id"), "bans", ["person_id"], unique=False)
    op.execute("INSERT INTO site_state (id, emergency_active) VALUES (1, false)")
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index(op.f("ix_bans_person_id"), table_name="bans")
    op.drop_table("bans")
    op.drop_table("notification_cards")
    op.drop_index(
        "ux_helmets_out_visitor",
        table_name="helmets",
        sqlite_where=sa.text("returned_at IS NULL"),
        postgresql_where=sa.text("returned_at IS NULL"),
    )
    op.drop_index(
        "ux_helmets_out_no",
        table_name="helmets",
        sqlite_where=sa.text("returned_at IS NULL"),
        postgresql_where=sa.text("returned_at IS NULL"),
    )
    op.drop_index(op.f("ix_helmets_visitor_id"), table_name="helmets")
    op.drop_table("helmets")
    op.drop_table("contact_form_zones")
    op.drop_index(op.f("ix_breaches_person_id"), table_name="breaches")
    op.drop_table("breaches")
    op.drop_index(
        "ux_badges_active_visitor",
        table_name="badges",
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.drop_index(
        "ux_badges_active_card",
        table_name="badges",
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.drop_index(op.f("ix_badges_visitor_id"), table_name="badges")
    op.drop_index(op.f("ix_badges_card"), table_name="badges")
    op.drop_table("badges")
    op.drop_index(op.f("ix_visits_visitor_id"), table_name="visits")
    op.drop_table("visits")
    op.drop_table("employee_escort_zones")
    op.drop_table("employee_access_zones")
    op.drop_index(op.f("ix_education_visitor_id"), table_name="education")
    op.drop_table("education")
    op.drop_index(op.f("ix_contact_forms_visitor_id"), table_name="contact_forms")
    op.drop_table("contact_forms")
    op.drop_index(op.f("ix_api_tokens_employee_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ux_visitors_id", table_name="visitors")
    op.drop_table("visitors")
    op.drop_index(op.f("ix_presence_zone"), table_name="presence")
    op.drop_table("presence")
    op.drop_table("departments")
    op.drop_table("employees")
    op.drop_table("site_state")
    op.drop_table("persons")
    op.drop_table("gate_health")
    op.drop_index(op.f("ix_events_person_id"), table_name="events")
    op.drop_index(op.f("ix_events_at"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_changes_person_id"), table_name="changes")
    op.drop_table("changes")


# Guards the application cannot bypass by mistake. The messages name the rule.
_GUARDS = [
    # (table, name, operation, condition on OLD, message)
    ("events", "events_no_update", "UPDATE", None, "R18: gate records are never updated"),
    ("events", "events_no_delete", "DELETE", None, "R18: gate records are never deleted"),
    (
        "notification_cards",
        "notification_cards_no_update",
        "UPDATE",
        "retain_until",
        "R7: a notification card cannot be altered before its retention ends",
    ),
    (
        "notification_cards",
        "notification_cards_no_delete",
        "DELETE",
        "retain_until",
        "R7: a notification card cannot be deleted before its retention ends",
    ),
    ("education", "education_no_update", "UPDATE", None, "R8: education records are never altered"),
    (
        "education",
        "education_no_delete",
        "DELETE",
        "valid_until",
        "R8: an education record cannot be deleted while its card is valid",
    ),
]


def _create_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for table, name, operation, date_column, message in _GUARDS:
        if dialect == "sqlite":
            when = f"WHEN OLD.{date_column} >= date('now') " if date_column else ""
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW {when}"
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        elif dialect == "postgresql":
            cond = f"OLD.{date_column} >= CURRENT_DATE" if date_column else "true"
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {cond} THEN RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation'; "
                f"END IF; RETURN OLD; END $$"
            )
            op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")


def _drop_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for table, name, _op, _col, _msg in _GUARDS:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
