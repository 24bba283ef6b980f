"""The dashboard of a viewer (and an area inside their scope), as of now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.security import Principal
from passtrace.dashboard import figures, present, scope
from passtrace.dashboard.schemas import DashboardRead
from passtrace.dashboard.window import window


def read(*, session: Session, actor: Principal, area: str | None = None,
         now: datetime | None = None) -> DashboardRead:
    """Every figure for the actor's areas (or `area`, which must lie inside them)."""
    where = scope.resolve(session=session, actor=actor, area=area)
    found = figures.compute(session=session, scope=where, window=window(now or utcnow()))
    return present.to_read(session, where, found)
