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
from passtrace.people.service import RevealField


def may_reveal(*, session: Session, actor: Principal, person_id: uuid.UUID) -> bool:
    """The person, or someone with person.reveal over one of their passes or employers."""
    if actor.person_id == person_id or actor.area_scopes("person.reveal") is None:
        return True
    if not actor.has("person.reveal"):
        return False
    passes = session.scalars(select(Pass).where(Pass.person_id == person_id).limit(500))
    if any(pass_authz.covers_all_areas(actor, "person.reveal", p) for p in passes):
        return True
    # An enterprise's admins (and officials over its area) may reveal its staff's data.
    return enterprise_service.reveal_allowed(session=session, actor=actor, person_id=person_id)


def reveal(*, session: Session, rt: Runtime, actor: Principal, person_id: uuid.UUID,
           field: RevealField, reason: str) -> str:
    """Reveal one field of a person's data, if allowed; audited with the reason."""
    allowed = may_reveal(session=session, actor=actor, person_id=person_id)
    return people_service.reveal(session=session, vault=rt.vault, actor=actor,
                                 person_id=person_id, field=field, reason=reason,
                                 allowed=allowed)
