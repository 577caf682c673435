"""Alembic environment: runs migrations on the connection zones.db.upgrade hands over, or
on ``sqlalchemy.url`` when alembic is driven from its own command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from zones.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER constraints
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", hide_parameters=True)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
