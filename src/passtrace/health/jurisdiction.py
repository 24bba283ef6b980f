"""Whose officials a person falls under: the areas the person is known in.

A person has no home area of their own. They fall under the officials of the areas
where they live in a compound, of the areas their live passes open, and of their open
cases. An official holding the permission over any of those areas (or globally) has
authority over the person; a person known nowhere falls to global holders only.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.communities.compounds.models import Community, Resident
from passtrace.core.security import Principal
from passtrace.passes.models import Pass


def areas_of(session: Session, person_id: uuid.UUID) -> set[str]:
    """The area codes the person is known in (compound, live passes, open cases)."""
    homes = (select(Community.code.label("code")).join(Resident,
                                                       Resident.community_id == Community.id)
             .where(Resident.person_id == person_id))
    cases = select(Case.area_code.label("code")).where(Case.person_id == person_id,
                                                       Case.status == "open")
    codes = {c for c in session.scalars(union(homes, cases)) if c}
    for areas in session.scalars(select(Pass.areas).where(
            Pass.person_id == person_id, Pass.status.in_(("pending", "approved")))
            .limit(200)):
        codes.update(a for a in areas or () if isinstance(a, str) and a)
    return codes


def covers(session: Session, actor: Principal, permission: str,
           person_id: uuid.UUID) -> bool:
    """The permission over one of the person's areas (or globally); never over oneself."""
    if actor.person_id == person_id or not actor.has(permission):
        return False
    if actor.area_scopes(permission) is None:
        return True
    return any(actor.covers_area(permission, code) for code in areas_of(session, person_id))
