"""Who may see and change a person's health status: officials over the person's areas."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from passtrace.core.errors import Forbidden
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.health import jurisdiction


def can_view(session: Session, actor: Principal, person_id: uuid.UUID) -> bool:
    """health.view over one of the person's areas (or globally)."""
    return jurisdiction.covers(session, actor, "health.view", person_id)


def can_manage(session: Session, actor: Principal, person_id: uuid.UUID) -> bool:
    """health.manage over one of the person's areas: propose, approve, decide appeals."""
    return jurisdiction.covers(session, actor, "health.manage", person_id)


def require(actor: Principal, permission: str) -> None:
    """403 for a role without the permission anywhere (a resident); scope is checked later
    per person, and a person out of scope is a 404 (never say they exist)."""
    if not actor.has(permission):
        raise Forbidden(N_("You may not do this."))
