"""How a status reads: labels, plain-words reasons, the history, for pages and the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.core.clock import utcnow
from passtrace.core.i18n import N_, gettext
from passtrace.core.runtime import Runtime
from passtrace.health import appeals, offline, reasons, service
from passtrace.health.codecheck import CodeCheck
from passtrace.health.models import MANUAL, StatusAppeal, StatusChange, StatusProposal
from passtrace.health.schemas import (
    AppealRead,
    FlagRead,
    HistoryRead,
    ProposalRead,
    StatusCodeCheck,
    StatusRead,
)
from passtrace.people.models import Person

LEVEL_LABELS = {"green": N_("Green"), "yellow": N_("Yellow"), "red": N_("Red")}
EVENT_LABELS = {"raised": N_("Flag raised"), "cleared": N_("Flag cleared"),
                "expired": N_("Flag ran out")}


def updated_at(session: Session, person: Person) -> datetime:
    """When the status last changed (or was set): the newest history entry."""
    return session.scalar(select(StatusChange.at).where(StatusChange.person_id == person.id)
                          .order_by(StatusChange.at.desc()).limit(1)) or person.created_at


def status_read(session: Session, rt: Runtime, person: Person, *,
                with_code: bool) -> StatusRead:
    """The person's status, why, until when, and the history."""
    derived = service.current(session=session, person_id=person.id)
    appeal_of = {a.flag_id: a.state for a in appeals.for_person(session=session,
                                                                  person_id=person.id)}
    flags = [FlagRead.model_validate({
        "id": f.id, "level": f.level, "since": f.starts_at, "until": f.until,
        "explanation": reasons.explain(f.reason),
        "note": str(f.evidence.get("reason", ""))[:500] if f.source == MANUAL else "",
        "appeal": appeal_of.get(f.id)}) for f in derived.flags]
    history = [HistoryRead.model_validate({
        "at": h.at, "event": gettext(EVENT_LABELS.get(h.event, h.event)),
        "explanation": reasons.explain(h.reason), "before": h.before, "after": h.after})
        for h in service.history(session=session, person_id=person.id)]
    changed = updated_at(session, person)
    code = None
    if with_code:
        code = offline.status_code(session=session, rt=rt, person=person,
                                   level=derived.status, updated_at=changed)
    return StatusRead.model_validate({
        "person_id": person.id, "status": derived.status,
        "label": gettext(LEVEL_LABELS[derived.status]), "name": person.name_masked,
        "updated_at": changed, "until": derived.until, "flags": flags, "history": history,
        "code": code})


def masked_names(session: Session, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Masked names of the people a list shows (the caller records the reads: the queue
    does so in `reading.record_queue`)."""
    ids = set(person_ids)
    if not ids:
        return {}
    # A person known only by an ID number typed by a tracing team or an import has no
    # name on file: the masked number then, so the link still has something to click.
    return {i: n or m for i, n, m in session.execute(
        select(Person.id, Person.name_masked, Person.id_masked).where(Person.id.in_(ids)))}


def user_names(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Officials' display names (who proposed a status by hand)."""
    ids = set(user_ids)
    return {i: n for i, n in session.execute(
        select(User.id, User.display_name).where(User.id.in_(ids)))} if ids else {}


def appeal_read(a: StatusAppeal) -> AppealRead:
    """An appeal for the API and pages."""
    return AppealRead.model_validate({
        "id": a.id, "flag_id": a.flag_id, "person_id": a.person_id, "statement": a.statement,
        "due_at": a.due_at, "overdue": a.state == "pending" and a.due_at < utcnow(),
        "escalated": a.escalated_at is not None,
        "state": a.state, "decision_reason": a.decision_reason})


def proposal_read(p: StatusProposal, viewer: uuid.UUID) -> ProposalRead:
    """A proposal for the API and pages."""
    return ProposalRead.model_validate({
        "id": p.id, "person_id": p.person_id, "level": p.level, "reason": p.reason,
        "until": p.until, "state": p.state, "mine": p.proposed_by == viewer,
        "created_at": p.created_at, "decided_at": p.decided_at,
        "decision_note": p.decision_note})


def code_check_read(c: CodeCheck) -> StatusCodeCheck:
    """A verified status code for the checkpoint."""
    return StatusCodeCheck.model_validate({
        "level": c.level, "label": gettext(LEVEL_LABELS[c.level]), "code_level": c.code_level,
        "changed_since": c.changed_since, "holder": c.holder, "id_last4": c.id_last4,
        "updated_at": c.updated_at, "valid_until": c.valid_until})
