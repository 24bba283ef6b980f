"""Reading risk areas (the rows warnings.risk_areas writes), for any domain that checks them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from passtrace.areas.models import AreaRisk
from passtrace.core.clock import utcnow


def overlapping(*, session: Session, start: datetime, end: datetime) -> list[AreaRisk]:
    """Risks in force at some moment of [start, end)."""
    return list(session.scalars(select(AreaRisk).where(
        AreaRisk.valid_from < end,
        or_(AreaRisk.valid_until.is_(None), AreaRisk.valid_until > start))
        .order_by(AreaRisk.area_code, AreaRisk.valid_from)))


def active(*, session: Session, now: datetime | None = None) -> list[AreaRisk]:
    """Risks in force now."""
    now = now or utcnow()
    return list(session.scalars(select(AreaRisk).where(
        AreaRisk.valid_from <= now,
        or_(AreaRisk.valid_until.is_(None), AreaRisk.valid_until > now))
        .order_by(AreaRisk.area_code)))
