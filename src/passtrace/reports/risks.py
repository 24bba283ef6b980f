"""Risky areas (a simple table until the early-warning platform takes over)."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.audit import service as audit_service
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.security import Principal
from passtrace.reports.models import AreaRisk
from passtrace.reports.schemas import AreaRiskIn


def create(*, session: Session, actor: Principal, data: AreaRiskIn) -> AreaRisk:
    """Mark an area risky; the official must be responsible for it."""
    if not actor.covers_area("risk.manage", data.area_code):
        raise Forbidden("Only an official responsible for the area may mark it risky.")
    area_service.validate_codes(session=session, codes=[data.area_code], field="area_code")
    start = data.valid_from or utcnow()
    for value in (data.valid_from, data.valid_until):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("Times need a time zone (e.g. +08:00).")
    if data.valid_until is not None and data.valid_until <= start:
        raise ValidationFailed("The end must be after the start.",
                               fields={"valid_until": "The end must be after the start."})
    risk = AreaRisk(area_code=data.area_code, area_prefix=significant_prefix(data.area_code),
                    level=data.level, valid_from=start, valid_until=data.valid_until,
                    note=data.note, created_by=actor.user_id)
    session.add(risk)
    session.flush()
    audit_service.record(session=session, actor=actor, action="risk.create",
                         resource_type="area_risk", resource_id=risk.id,
                         detail={"area": risk.area_code, "level": risk.level})
    return risk


def active(*, session: Session) -> list[AreaRisk]:
    """List risks in force now."""
    now = utcnow()
    return list(session.scalars(select(AreaRisk).where(
        AreaRisk.valid_from <= now,
        or_(AreaRisk.valid_until.is_(None), AreaRisk.valid_until > now))
        .order_by(AreaRisk.area_code)))


def end(*, session: Session, actor: Principal, risk_id: uuid.UUID) -> AreaRisk:
    """Lift a risk now."""
    risk = session.get(AreaRisk, risk_id)
    if risk is None or not actor.covers_area("risk.manage", risk.area_code):
        raise NotFound("No such risk area.")
    now = utcnow()
    if risk.valid_until is None or risk.valid_until > now:
        risk.valid_until = max(now, risk.valid_from)
        audit_service.record(session=session, actor=actor, action="risk.end",
                             resource_type="area_risk", resource_id=risk.id,
                             detail={"area": risk.area_code})
    return risk
