"""Appeals against coercive revocations: the holder files one, an official decides it.

Outcomes name what happens to the revocation: "upheld" (it stands) or "reversed".
Who decides: an official holding pass.review over every area of the pass, other than
the official who revoked it. Upheld: the revocation stands. Reversed: the revoked pass
stays revoked (offline checkpoints have already learnt the revocation and a revocation
list only grows, so un-revoking could not reach them) and a new pass with the same
details is issued at once, valid for what was left of the old window; if that window is
over, the person is told to apply again (the pass page offers "apply again with these
details"). Each step is audited and the person gets a notice.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Conflict, Forbidden, InvalidState, NotFound
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.passes import authz, coercion
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass, PassAppeal

MIN_TEXT = coercion.APPEAL_MIN_TEXT
Outcome = coercion.Outcome


def appealable(p: Pass) -> bool:
    """A pass revoked by someone else (an official, a compound) can be appealed."""
    return p.status == "revoked" and p.revoked_by is not None


def for_pass(*, session: Session, pass_id: uuid.UUID) -> PassAppeal | None:
    """The appeal against a pass's revocation, if one was filed."""
    return session.scalar(select(PassAppeal).where(PassAppeal.pass_id == pass_id))


def file(*, session: Session, actor: Principal, pass_id: uuid.UUID, text: str) -> PassAppeal:
    """File the holder's appeal against the revocation of their pass (once per pass:
    the unique pass_id)."""
    def open_appeal(text: str) -> tuple[PassAppeal, coercion.Appealed]:
        p = pass_service.get(session=session, pass_id=pass_id)
        if p is None or not authz.is_holder(actor, p):
            raise NotFound("No such pass.")
        if not appealable(p):
            raise InvalidState("Only a pass revoked by an official or a compound can be "
                               "appealed.")
        return (PassAppeal(id=uuid7(), pass_id=p.id, person_id=p.person_id,
                           filed_by=actor.user_id, text=text, status="pending"),
                _about(p.id))

    return coercion.file_appeal(session=session, actor=actor, text=text,
                                open_appeal=open_appeal)


def _about(pass_id: uuid.UUID) -> coercion.Appealed:
    return coercion.Appealed(action="pass.appeal", resource_type="pass", resource_id=pass_id)


def _scope(actor: Principal, stmt: Select[PassAppeal]) -> Select[PassAppeal]:
    scopes = actor.area_scopes("pass.review")
    if scopes is not None and not scopes:
        raise Forbidden("Your account has no jurisdiction over passes.")
    if scopes is not None:
        stmt = stmt.join(Pass, Pass.id == PassAppeal.pass_id).where(
            or_(*[Pass.area_prefix.startswith(s, autoescape=True) for s in scopes]))
    return stmt


def list_for_review(*, session: Session, actor: Principal, status: str = "pending",
                    limit: int = 100) -> list[PassAppeal]:
    """Appeals in the actor's jurisdiction, oldest first (the queue); audited as reads."""
    rows = list(session.scalars(_scope(actor, select(PassAppeal).where(
        PassAppeal.status == status)).order_by(PassAppeal.id).limit(limit)))
    rows = [a for a in rows if authz.can_review(actor, a.revoked_pass)]
    pass_service.record_reads(session=session, actor=actor,
                              passes=[a.revoked_pass for a in rows], via="appeals")
    return rows


def decide(*, session: Session, rt: Runtime, actor: Principal, appeal_id: uuid.UUID,
           outcome: Outcome, reason: str) -> PassAppeal:
    """Uphold or reverse an appeal; a reversal re-issues the pass (see the module doc).

    Race: two officials deciding the same appeal at once (or one twice): the appeal row
    is locked and re-read, so the second sees it decided (409) and nothing is issued twice.
    """
    reason = coercion.check_decision(outcome, reason)
    appeal = locked(session, PassAppeal, appeal_id)
    if appeal is None or not authz.can_review(actor, appeal.revoked_pass):
        raise NotFound("No such appeal.")
    old = appeal.revoked_pass
    if old.revoked_by == actor.user_id:
        raise Forbidden("You revoked this pass: another official must decide the appeal.")
    if appeal.status != "pending":
        raise Conflict("This appeal was already decided.")
    now = utcnow()
    new: Pass | None = None
    if outcome == "reversed" and old.valid_until > now:
        new = Pass(id=uuid7(), person_id=old.person_id, applicant_user_id=old.applicant_user_id,
                   purpose=old.purpose, reason=old.reason, valid_from=max(old.valid_from, now),
                   valid_until=old.valid_until, areas=list(old.areas), sites=list(old.sites),
                   plate=old.plate, companions=old.companions, area_prefix=old.area_prefix,
                   status="approved", decided_by=actor.user_id, decided_at=now,
                   decision_reason=reason)
        session.add(new)
        session.flush()
        pass_service.sign(session=session, rt=rt, p=new)
        appeal.reissued_pass_id = new.id
        audit_service.record(session=session, actor=actor, action="pass.issue",
                             resource_type="pass", resource_id=new.id,
                             subject_person_id=new.person_id, reason=reason,
                             detail={"reissue_of": str(old.id), "kid": new.kid})
    coercion.settle(session=session, actor=actor, appeal=appeal, outcome=outcome,
                    reason=reason, about=_about(old.id),
                    detail={"appeal": str(appeal.id),
                            "reissued": str(new.id) if new else None})
    text = (N_("Your appeal was decided: the revocation of your pass stands. %(reason)s")
            if outcome == "upheld" else
            N_("Your appeal succeeded: the revocation was reversed and a new pass with the same "
               "details was issued. "
               "%(reason)s") if new else
            N_("Your appeal succeeded, but the pass's time is over: apply again with the "
               "same details. %(reason)s"))
    coercion.tell_person(session=session, settings=rt.settings, person_id=old.person_id,
                         kind="pass_appeal", text=text, params={"reason": reason},
                         key=f"pass-appeal:{appeal.id}",
                         link=f"/passes/{new.id if new else old.id}")
    return appeal
