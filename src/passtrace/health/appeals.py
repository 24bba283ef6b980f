"""A person's appeal against one flag, decided by an official over their areas.

One appeal per flag (status_appeals.flag_id is unique). Granting clears the flag (the
status is recomputed); refusing keeps it. Either way the person is told, with the
official's reason, and both steps reach the person's access log.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.audit import service as audit
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.health import authz, service
from passtrace.health.models import APPEAL, StatusAppeal, StatusFlag
from passtrace.notices.service import InAppNotifier, Message

MIN_TEXT, MAX_TEXT = 4, 500
DECIDED_NOTICES = {
    "granted": N_("Your appeal was granted: the flag was cleared."),
    "refused": N_("Your appeal was refused. Open your status page to see the reason."),
}


def _text(value: str, field: str) -> str:
    text = " ".join(value.split())
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        raise ValidationFailed(N_("Give 4 to 500 characters."),
                               fields={field: N_("Give 4 to 500 characters.")})
    return text


def file(*, session: Session, actor: Principal, flag_id: uuid.UUID, statement: str,
         hours: int) -> StatusAppeal:
    """The person appeals one of their live flags; an official decides within `hours`."""
    flag = session.get(StatusFlag, flag_id)
    if flag is None or actor.person_id is None or flag.person_id != actor.person_id:
        raise NotFound(N_("No such flag."))
    text = _text(statement, "statement")
    if flag.cleared_at is not None:
        raise InvalidState(N_("This flag was cleared already."))
    now = utcnow()
    appeal = StatusAppeal(id=uuid7(), flag_id=flag.id, person_id=flag.person_id,
                          statement=text, due_at=now + timedelta(hours=hours),
                          state="pending")
    # Race: the same flag appealed twice at once (two taps): the unique flag_id keeps one.
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("You appealed this flag already.")) from None
    audit.record(session=session, actor=actor, action="health.appeal.file",
                 resource_type="status_appeal", resource_id=appeal.id,
                 subject_person_id=flag.person_id, reason=text)
    return appeal


def get_visible(*, session: Session, actor: Principal, appeal_id: uuid.UUID) -> StatusAppeal:
    """The appellant's own appeal, or one an official over the person may decide."""
    appeal = session.get(StatusAppeal, appeal_id)
    if appeal is None or (appeal.person_id != actor.person_id
                          and not authz.can_manage(session, actor, appeal.person_id)):
        raise NotFound(N_("No such appeal."))
    return appeal


def list_pending(*, session: Session, actor: Principal, after: uuid.UUID | None = None,
                 limit: int = 50) -> list[StatusAppeal]:
    """Pending appeals the actor may decide, oldest first (the most overdue on top)."""
    authz.require(actor, "health.manage")
    found: list[StatusAppeal] = []
    cursor = after
    while len(found) < limit:
        stmt = select(StatusAppeal).where(StatusAppeal.state == "pending")
        if cursor is not None:
            stmt = stmt.where(StatusAppeal.id > cursor)
        batch = list(session.scalars(stmt.order_by(StatusAppeal.id).limit(limit * 4)))
        if not batch:
            break
        found.extend(a for a in batch if authz.can_manage(session, actor, a.person_id))
        cursor = batch[-1].id
    return found[:limit]


def decide(*, session: Session, actor: Principal, appeal_id: uuid.UUID, grant: bool,
           reason: str) -> StatusAppeal:
    """Grant (clear the flag) or refuse, with a reason the person reads.

    Race: two officials deciding at once: the appeal row is locked and re-read, so the
    second finds it decided (409).
    """
    authz.require(actor, "health.manage")
    found = get_visible(session=session, actor=actor, appeal_id=appeal_id)
    if not authz.can_manage(session, actor, found.person_id):
        raise NotFound(N_("No such appeal."))
    text = _text(reason, "reason")
    appeal = locked(session, StatusAppeal, appeal_id)
    if appeal is None:
        raise NotFound(N_("No such appeal."))
    if appeal.state != "pending":
        raise Conflict(N_("This appeal was already decided."))
    appeal.state = "granted" if grant else "refused"
    appeal.decided_by, appeal.decided_at, appeal.decision_reason = actor.user_id, utcnow(), text
    session.flush()
    audit.record(session=session, actor=actor, action=f"health.appeal.{appeal.state}",
                 resource_type="status_appeal", resource_id=appeal.id,
                 subject_person_id=appeal.person_id, reason=text)
    if grant:
        flag = session.get(StatusFlag, appeal.flag_id)
        if flag is not None:
            service.clear_flag(session=session, dedupe_key=flag.dedupe_key, actor=actor,
                               reason=APPEAL)
    user_id = session.scalar(select(User.id).where(User.person_id == appeal.person_id))
    if user_id is not None:
        InAppNotifier(session).send(Message(
            user_id=user_id, kind="health.appeal", text=DECIDED_NOTICES[appeal.state],
            dedupe_key=f"health-appeal:{appeal.id}", link=service.STATUS_PAGE))
    return appeal


def for_person(*, session: Session, person_id: uuid.UUID) -> list[StatusAppeal]:
    """The person's appeals, newest first."""
    return list(session.scalars(select(StatusAppeal).where(
        StatusAppeal.person_id == person_id).order_by(StatusAppeal.id.desc()).limit(50)))
