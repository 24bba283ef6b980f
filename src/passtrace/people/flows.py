"""People use cases that span domains: who may reveal whose data."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.enterprises import service as enterprise_service
from passtrace.passes import authz as pass_authz
from passtrace.passes.models import Pass
from passtrace.people import service as people_service
from passtrace.people.models import PersonClaim
from passtrace.people.service import RevealField


def may_reveal(*, session: Session, actor: Principal, person_id: uuid.UUID
               ) -> bool | PersonClaim:
    """Who may reveal what: True for the registry's values, a claim for only that claim.

    The person, officials with person.reveal over one of their passes or employers:
    the registry. An employer's HR: only what HR supplied, for current employees.
    """
    if actor.person_id == person_id or actor.area_scopes("person.reveal") is None:
        return True
    if not actor.has("person.reveal"):
        return False
    passes = session.scalars(select(Pass).where(Pass.person_id == person_id).limit(500))
    if any(pass_authz.covers_all_areas(actor, "person.reveal", p) for p in passes):
        return True
    found = enterprise_service.staff_reveal_source(session=session, actor=actor,
                                                   person_id=person_id)
    if isinstance(found, bool):
        return found
    # HR with no claim on file (a list from before claims were kept) reveals nothing.
    return found.hr_claim or False


def reveal(*, session: Session, rt: Runtime, actor: Principal, person_id: uuid.UUID,
           field: RevealField, reason: str) -> str:
    """Reveal one field of a person's data, if allowed; audited with the reason."""
    allowed = may_reveal(session=session, actor=actor, person_id=person_id)
    return people_service.reveal(session=session, vault=rt.vault, actor=actor,
                                 person_id=person_id, field=field, reason=reason,
                                 allowed=allowed is not False,
                                 claim=allowed if isinstance(allowed, PersonClaim) else None)
