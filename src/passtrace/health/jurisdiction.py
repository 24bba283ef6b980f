"""Whose officials a person falls under: the areas the person is known in.

A person has no home area of their own. They fall under the officials of the areas
where they live in a compound, of the areas their live passes open, and of their open
cases. An official holding the permission over any of those areas (or globally) has
authority over the person; a person known nowhere falls to global holders only.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.communities.compounds.models import Community, Resident
from passtrace.core.security import Principal
from passtrace.passes.models import Pass

# Live passes read per person, newest first: a person with thousands of passes must not
# swell a read (a list page reads many people at once).
PASSES_PER_PERSON = 200


def areas_of(session: Session, person_id: uuid.UUID) -> set[str]:
    """The area codes the person is known in (compound, live passes, open cases)."""
    return areas_by_person(session, [person_id]).get(person_id, set())


def areas_by_person(session: Session,
                    person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The area codes each person is known in, for many people in two statements."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    found: dict[uuid.UUID, set[str]] = {}
    homes = (select(Resident.person_id.label("person_id"), Community.code.label("code"))
             .join(Community, Resident.community_id == Community.id)
             .where(Resident.person_id.in_(ids)))
    cases = select(Case.person_id.label("person_id"), Case.area_code.label("code")).where(
        Case.person_id.in_(ids), Case.status == "open")
    for person_id, code in session.execute(union(homes, cases)):
        if code:
            found.setdefault(person_id, set()).add(code)
    # Pass areas are a JSON list per row, read in Python: the same on SQLite and PostgreSQL.
    rank = func.row_number().over(partition_by=Pass.person_id,
                                  order_by=(Pass.created_at.desc(), Pass.id.desc()))
    live = (select(Pass.person_id, Pass.areas, rank.label("n"))
            .where(Pass.person_id.in_(ids), Pass.status.in_(("pending", "approved")))
            .subquery())
    for person_id, areas in session.execute(
            select(live.c.person_id, live.c.areas).where(live.c.n <= PASSES_PER_PERSON)):
        codes = [a for a in areas or () if isinstance(a, str) and a]
        if codes:
            found.setdefault(person_id, set()).update(codes)
    return found


def covers(session: Session, actor: Principal, permission: str,
           person_id: uuid.UUID) -> bool:
    """The permission over one of the person's areas (or globally); never over oneself."""
    return person_id in covered(session, actor, permission, [person_id])


def covered(session: Session, actor: Principal, permission: str,
            person_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the people the actor has the permission over (covers, for a whole page)."""
    if not actor.has(permission):
        return set()
    others = {p for p in person_ids if p != actor.person_id}
    if actor.area_scopes(permission) is None:
        return others
    return {person_id for person_id, codes in areas_by_person(session, others).items()
            if any(actor.covers_area(permission, code) for code in codes)}
