"""Who reads whose status: the person their own; officials over the person, audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from passtrace.audit import service as audit
from passtrace.core.errors import NotFound
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.health import authz
from passtrace.health.errors import PersonNotFound
from passtrace.health.models import StatusAppeal, StatusProposal
from passtrace.people.models import Person


def own(*, session: Session, actor: Principal) -> Person:
    """The caller's own person record (an account without one has no status)."""
    person = session.get(Person, actor.person_id) if actor.person_id else None
    if person is None:
        raise NotFound(N_("Your account has no person record, so no health status."))
    return person


def for_official(*, session: Session, actor: Principal, person_id: uuid.UUID,
                 via: str) -> Person:
    """A person an official over them reads; the read reaches the person's access log."""
    authz.require(actor, "health.view")
    person = session.get(Person, person_id)
    if person is None or not authz.can_view(session, actor, person_id):
        raise PersonNotFound()
    audit.record(session=session, actor=actor, action="health.view",
                 resource_type="person", resource_id=person_id, subject_person_id=person_id,
                 detail={"via": via})
    return person


def record_queue(*, session: Session, actor: Principal,
                 proposals: Sequence[StatusProposal] = (),
                 appeals: Sequence[StatusAppeal] = (), via: str) -> None:
    """The decision queue shows each person's proposed status and reason, or their
    appeal's statement: one read per person shown, in their access log (one INSERT)."""
    for rows, resource_type in ((proposals, "status_proposal"), (appeals, "status_appeal")):
        audit.record_reads(session=session, actor=actor, action="health.view",
                           resource_type=resource_type,
                           people=[(r.id, r.person_id) for r in rows],
                           detail={"via": via})
