"""A compound's office hands its residents claim codes, so each can link their own account."""

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
