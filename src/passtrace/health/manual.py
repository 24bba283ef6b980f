"""A status set by hand: one official proposes with a reason, a second approves (four eyes).

No single account can change a status by hand, administrators included: the proposer
may not decide their own proposal (here, and a CHECK constraint in the database), and
the second official must hold health.manage over the person's areas too. Approving
red or yellow raises a "manual" flag; approving green clears every live flag. Every
step is audited against the person, so it is in their access log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.health import authz, jurisdiction, service
from passtrace.health.errors import PersonNotFound
from passtrace.health.models import MANUAL, StatusFlag, StatusProposal
from passtrace.people.models import Person

LEVELS = ("green", "yellow", "red")
MIN_REASON, MAX_REASON = 4, 500


def _check(level: str, reason: str, until: datetime | None) -> str:
    text = " ".join(reason.split())
    fields = {}
    if level not in LEVELS:
        fields["level"] = N_("Choose green, yellow or red.")
    if not MIN_REASON <= len(text) <= MAX_REASON:
        fields["reason"] = N_("Give a reason of 4 to 500 characters.")
    if until is not None and (until.tzinfo is None or until <= utcnow()):
        fields["until"] = N_("The end must be in the future.")
    if level == "green" and until is not None:
        fields["until"] = N_("Green has no end.")
    if fields:
        raise ValidationFailed(N_("The proposal is not valid."), fields=fields)
    return text


def propose(*, session: Session, actor: Principal, person_id: uuid.UUID, level: str,
            reason: str, until: datetime | None = None) -> StatusProposal:
    """File a proposal; it changes nothing until another official approves it."""
    authz.require(actor, "health.manage")
    if session.get(Person, person_id) is None or not authz.can_manage(session, actor,
                                                                        person_id):
        raise PersonNotFound()
    text = _check(level, reason, until)
    proposal = StatusProposal(id=uuid7(), person_id=person_id, level=level, reason=text,
                              until=until, proposed_by=actor.user_id, state="pending")
    session.add(proposal)
    session.flush()
    audit.record(session=session, actor=actor, action="health.manual.propose",
                 resource_type="status_proposal", resource_id=proposal.id,
                 subject_person_id=person_id, reason=text, detail={"level": level})
    return proposal


def get_visible(*, session: Session, actor: Principal,
                proposal_id: uuid.UUID) -> StatusProposal:
    """A proposal the actor filed or may decide (404 otherwise: never say it exists)."""
    proposal = session.get(StatusProposal, proposal_id)
    if proposal is None or (proposal.proposed_by != actor.user_id
                            and not authz.can_manage(session, actor, proposal.person_id)):
        raise NotFound(N_("No such proposal."))
    return proposal


def list_pending(*, session: Session, actor: Principal, after: uuid.UUID | None = None,
                 limit: int = 50) -> list[StatusProposal]:
    """Pending proposals the actor may decide: another official's, over their people."""
    authz.require(actor, "health.manage")
    found: list[StatusProposal] = []
    cursor = after
    while len(found) < limit:
        stmt = select(StatusProposal).where(StatusProposal.state == "pending",
                                            StatusProposal.proposed_by != actor.user_id)
        if cursor is not None:
            stmt = stmt.where(StatusProposal.id > cursor)
        batch = list(session.scalars(stmt.order_by(StatusProposal.id).limit(limit * 4)))
        if not batch:
            break
        found.extend(p for p in batch if authz.can_manage(session, actor, p.person_id))
        cursor = batch[-1].id
    return found[:limit]


def decide(*, session: Session, actor: Principal, proposal_id: uuid.UUID, approve: bool,
           note: str = "") -> StatusProposal:
    """Approve (the status changes now) or refuse another official's proposal.

    Race: two officials approving at once (or one clicking twice). The proposal row is
    locked and re-read before its state is checked, so the second waits (PostgreSQL) or
    is refused (SQLite), then finds it decided (409): the status changes once.
    """
    authz.require(actor, "health.manage")
    get_visible(session=session, actor=actor, proposal_id=proposal_id)
    proposal = locked(session, StatusProposal, proposal_id)
    if proposal is None:
        raise NotFound(N_("No such proposal."))
    if proposal.proposed_by == actor.user_id:
        raise Forbidden(N_("A second official must approve your own proposal."))
    if not authz.can_manage(session, actor, proposal.person_id):
        raise NotFound(N_("No such proposal."))
    if proposal.state != "pending":
        raise Conflict(N_("This proposal was already decided."))
    text = " ".join(note.split())
    if len(text) > MAX_REASON or (not approve and len(text) < MIN_REASON):
        raise ValidationFailed(N_("Give a reason of 4 to 500 characters."),
                               fields={"note": N_("Give a reason of 4 to 500 characters.")})
    proposal.state = "approved" if approve else "refused"
    proposal.decided_by, proposal.decided_at = actor.user_id, utcnow()
    proposal.decision_note = text
    session.flush()
    audit.record(session=session, actor=actor, action=f"health.manual.{proposal.state}",
                 resource_type="status_proposal", resource_id=proposal.id,
                 subject_person_id=proposal.person_id, reason=text or proposal.reason,
                 detail={"level": proposal.level})
    if approve:
        _apply(session, actor, proposal)
    return proposal


def _apply(session: Session, actor: Principal, proposal: StatusProposal) -> None:
    if proposal.level == "green":
        keys = session.scalars(select(StatusFlag.dedupe_key).where(
            StatusFlag.person_id == proposal.person_id, StatusFlag.cleared_at.is_(None)))
        for key in list(keys):
            service.clear_flag(session=session, dedupe_key=key, actor=actor, reason=MANUAL)
        return
    service.raise_flag(session=session, person_id=proposal.person_id, level=proposal.level,
                       source=MANUAL, reason=MANUAL,
                       evidence={"proposal": str(proposal.id), "reason": proposal.reason},
                       until=proposal.until, dedupe_key=f"manual:{proposal.id}", actor=actor,
                       area_code=person_area(session, actor, proposal.person_id))


def person_area(session: Session, actor: Principal, person_id: uuid.UUID) -> str | None:
    """The person's area for a status set by hand (district counts): the most specific of
    the areas the person is known in (jurisdiction.areas_of) that the deciding official
    is responsible for; None when the official's scope is global and the person is known
    nowhere."""
    mine = sorted(jurisdiction.areas_of(session, person_id), key=lambda c: (-len(c), c))
    return next((c for c in mine if actor.covers_area("health.manage", c)), None)


def for_person(*, session: Session, person_id: uuid.UUID,
               limit: int = 20) -> list[StatusProposal]:
    """The person's proposals, newest first (the official's person page, the phone page)."""
    return list(session.scalars(select(StatusProposal).where(
        StatusProposal.person_id == person_id).order_by(StatusProposal.id.desc()).limit(limit)))
