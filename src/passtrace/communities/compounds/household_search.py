"""The household list's search box: a flat (3-2-501, 3栋2单元501, 501), a name, an ID tail.

A manager types what the resident at the desk says. A flat is split into building,
unit and room as people write them; a name is compared with the name the compound
itself recorded (its own claim, people/claims.py): in full for whoever runs the compound
(its managers, officials over its area), by family name only for a view-only reader. The last 4
characters of an ID number find the resident whose masked number ends with them.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from passtrace.communities.compounds.models import Building, Community, Household, Resident
from passtrace.core import search
from passtrace.core.pii import PiiVault
from passtrace.people import claims
from passtrace.people.models import Person, PersonClaim

_FLAT_PARTS = re.compile(r"号楼|栋|幢|单元|室|号|[-/#,，、]")


def flat_parts(q: str) -> list[str]:
    """The building / unit / room a flat search names (empty if it is not a flat)."""
    if not any(ch.isdigit() for ch in q):
        return []
    parts = [p for p in _FLAT_PARTS.split(q) if p]
    return parts if 1 <= len(parts) <= 3 else []


def conditions(*, session: Session, vault: PiiVault, c: Community, q: str,
               full_names: bool) -> list[ColumnElement[bool]]:
    """WHERE terms on households for a search (none for empty text, never-true for junk)."""
    if not q:
        return []
    terms: list[ColumnElement[bool]] = []
    parts = flat_parts(q)
    if len(parts) == 3:
        terms.append((Building.name == parts[0]) & (Household.unit == parts[1])
                     & (Household.room == parts[2]))
    elif len(parts) == 2:
        terms.append((Building.name == parts[0]) & (Household.room == parts[1]))
    elif len(parts) == 1:
        terms.append(Household.room.contains(parts[0], autoescape=True))
    residents = select(Resident.household_id).where(Resident.community_id == c.id)
    if tail := search.id_tail(q):
        terms.append(Household.id.in_(residents.join(Person, Person.id == Resident.person_id)
                                      .where(Person.id_masked.endswith(tail, autoescape=True))))
    if name := search.name(q):
        terms.append(_name_term(session, vault, c, name, full_names))
    return [or_(*terms)] if terms else [false()]


def _name_term(session: Session, vault: PiiVault, c: Community, name: str,
               full_names: bool) -> ColumnElement[bool]:
    here = select(Resident.person_id).where(Resident.community_id == c.id)
    if full_names:
        people = claims.people_named(session=session, vault=vault, source_kind="community",
                                     source_id=c.id, prefix=name, person_ids=here)
        if not people:
            return false()
        return Household.id.in_(select(Resident.household_id).where(
            Resident.community_id == c.id, Resident.person_id.in_(people)))
    if len(name) > 1:  # a masked reader may not test a full name against the records
        return false()
    return Household.id.in_(select(Resident.household_id).where(
        Resident.community_id == c.id, Resident.person_id.in_(select(PersonClaim.person_id).where(
            PersonClaim.source_kind == "community", PersonClaim.source_id == c.id,
            PersonClaim.name_masked.startswith(name, autoescape=True)))))
