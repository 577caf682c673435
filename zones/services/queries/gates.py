"""Queries about gates: the controllers' latest health report per gate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.schema import GateHealth


def gate_health(session: Session) -> dict[str, GateHealth]:
    """Gate id -> the controllers' latest report, by gate id; a gate no controller has
    reported on is absent."""
    return {g.gate_id: g for g in session.scalars(select(GateHealth).order_by(GateHealth.gate_id))}
