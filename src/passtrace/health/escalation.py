"""An appeal left undecided past its deadline goes up one level, once.

The officials over a person are those of the areas the person is known in
(health/jurisdiction.py); the nearest of those areas' levels with officials bound to it
decides. Past the deadline (`health_appeal_hours`) the officials bound to the next level
up with officials are told, in-app through the notifier (the outbox for anything that
leaves the process); they already hold authority over the person (their area contains
the person's), so the appeal shows in their queue and they may decide it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding, User
from passtrace.areas.models import Area
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.core.i18n import N_
from passtrace.health import jurisdiction
from passtrace.health.models import StatusAppeal
from passtrace.notices.service import Message, Notifier

ESCALATED = N_("An appeal against a health status passed its deadline undecided: please "
               "decide it.")
QUEUE_PAGE = "/health/queue"
MAX_DEPTH = 6  # province > city > district > street > community > compound


def _bound_officials(session: Session) -> dict[str, set[uuid.UUID]]:
    """Active officials by the (significant prefix of the) area they are bound to."""
    found: dict[str, set[uuid.UUID]] = {}
    for user_id, scope in session.execute(
            select(RoleBinding.user_id, RoleBinding.scope_value)
            .join(User, User.id == RoleBinding.user_id)
            .where(RoleBinding.role == "official", RoleBinding.scope_type == "area",
                   User.is_active)):
        found.setdefault(significant_prefix(scope), set()).add(user_id)
    return found


def _ancestry(session: Session, code: str) -> list[str]:
    """The area and the areas above it, nearest first."""
    chain: list[str] = []
    current: str | None = code
    while current and current not in chain and len(chain) < MAX_DEPTH:
        chain.append(current)
        current = session.scalar(select(Area.parent_code).where(Area.code == current))
    return chain


def next_level_officials(session: Session, person_id: uuid.UUID,
                         bound: dict[str, set[uuid.UUID]]) -> set[uuid.UUID]:
    """The officials one staffed level above those who decide for the person."""
    told: set[uuid.UUID] = set()
    for code in jurisdiction.areas_of(session, person_id):
        staffed = [users for area in _ancestry(session, code)
                   if (users := bound.get(significant_prefix(area)))]
        if len(staffed) > 1:
            told |= staffed[1]
    return told


def escalate_overdue(*, session: Session, notifier: Notifier, now: datetime | None = None,
                     limit: int = 500) -> int:
    """Escalate pending appeals past their deadline; return how many moved.

    Race: two job runners at once would both tell the next level. Each appeal is claimed
    by an UPDATE that matches only while escalated_at is empty, so the second runner's
    update matches nothing (it waits on the row lock, then re-reads) and sends nothing;
    re-running later finds it escalated. The notices' dedupe keys are a second guard.
    """
    now = now or utcnow()
    due = list(session.execute(
        select(StatusAppeal.id, StatusAppeal.person_id)
        .where(StatusAppeal.state == "pending", StatusAppeal.due_at <= now,
               StatusAppeal.escalated_at.is_(None))
        .order_by(StatusAppeal.due_at).limit(limit)))
    if not due:
        return 0
    bound = _bound_officials(session)
    moved = 0
    for appeal_id, person_id in due:
        claimed = session.execute(
            update(StatusAppeal).where(StatusAppeal.id == appeal_id,
                                       StatusAppeal.state == "pending",
                                       StatusAppeal.escalated_at.is_(None))
            .values(escalated_at=now)).rowcount  # type: ignore[attr-defined]
        if not claimed:
            continue
        moved += 1
        for user_id in sorted(next_level_officials(session, person_id, bound)):
            notifier.send(Message(user_id=user_id, kind="health.appeal.escalated",
                                  text=ESCALATED, link=QUEUE_PAGE,
                                  dedupe_key=f"health-appeal:{appeal_id}:esc:{user_id}"))
    return moved
