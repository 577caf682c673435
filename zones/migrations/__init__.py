"""Alembic migrations of the central database, shipped inside the package (see zones.db)."""
