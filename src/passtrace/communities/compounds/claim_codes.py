"""What a compound's office knows of its residents: claim codes it hands them, so each can
link their own account, and what its manager may reveal (what the office recorded)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.binding import issue_claim_code
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Community, Resident
from passtrace.core.errors import NotFound
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.people import claims as person_claims
from passtrace.people.models import PersonClaim


def issue_for_resident(*, session: Session, rt: Runtime, actor: Principal, code: str,
                       resident_id: uuid.UUID) -> tuple[str, datetime]:
    """A compound's manager gives one of its residents a claim code."""
    c = community_service.get_managed(session=session, actor=actor, code=code)
    r = session.get(Resident, resident_id)
    if r is None or r.community_id != c.id:
        raise NotFound("No such resident.")
    return issue_claim_code(session, rt, actor, r.person_id, "community", c.id)


def resident_areas(session: Session, person_id: uuid.UUID) -> Iterable[str]:
    """The compounds a person lives in (a compound's code is its division code)."""
    return session.scalars(select(Community.code).join(
        Resident, Resident.community_id == Community.id).where(Resident.person_id == person_id))


def reveal_grant(*, session: Session, actor: Principal, person_id: uuid.UUID
                 ) -> bool | PersonClaim:
    """The compounds' grant to people.flows (wired in passtrace.wiring).

    A compound's manager is not the government: like an employer's HR it reads back what
    its own office recorded of a *current* resident (the name and phone typed when they
    were registered), never the registry, and nothing once they moved out. Officials over
    the compound's area already read the registry through the household pass's area.
    """
    if not actor.has("person.reveal"):
        return False
    for c in session.scalars(select(Community).join(
            Resident, Resident.community_id == Community.id).where(
            Resident.person_id == person_id).limit(20)):
        if actor.covers("person.reveal", "community", c.code):
            claim = person_claims.get(session=session, person_id=person_id,
                                      source_kind="community", source_id=c.id)
            if claim is not None:
                return claim
    return False
