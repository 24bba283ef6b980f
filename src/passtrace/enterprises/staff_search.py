"""The staff list's search and filters: a long staff list is found by typing, not scrolling.

HR types what it has at hand: a name (the one its own staff list gave), the last 4
characters of an ID number, the last 4 digits of a phone, or an employee number.
The employer side (the enterprise's admins, a department head for their department)
searches names in full: the name is theirs, so the candidates sharing its first
character are decrypted to compare (people/claims.py). An official reads the list
masked and so searches only what they see: the family name, the ID and phone tails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from passtrace.core import search
from passtrace.core.pii import PiiVault
from passtrace.core.security import Principal
from passtrace.enterprises import authz
from passtrace.enterprises.models import EMPLOYEE_STATUSES, Employee, Enterprise
from passtrace.people import claims
from passtrace.people.models import Person, PersonClaim


@dataclass(frozen=True)
class StaffFilter:
    """What the list was asked for: department, status ("" = all) and search text."""

    department_id: uuid.UUID | None = None
    status: str = "active"
    q: str = ""


def parse(department: str, status: str, q: str) -> StaffFilter:
    """Read the filter from a page link; anything unknown falls back to the default.

    Raises ValidationFailed for search text that is too long (shown on the form).
    """
    try:
        chosen = uuid.UUID(department) if department else None
    except ValueError:
        chosen = None
    return StaffFilter(department_id=chosen,
                       status=status if status in (*EMPLOYEE_STATUSES, "all") else "active",
                       q=search.normalize_query(q[:search.QUERY_MAX * 2]))


def _own_claims(e: Enterprise) -> list[ColumnElement[bool]]:
    return [PersonClaim.source_kind == "enterprise", PersonClaim.source_id == e.id]


def conditions(*, session: Session, vault: PiiVault, actor: Principal, e: Enterprise,
               q: str) -> list[ColumnElement[bool]]:
    """The WHERE terms for a search (none for empty text; never matching for junk)."""
    if not q:
        return []
    terms: list[ColumnElement[bool]] = [Employee.employee_no == q]
    if tail := search.id_tail(q):
        terms.append(Employee.person_id.in_(select(Person.id).where(
            Person.id_masked.endswith(tail, autoescape=True))))
    if tail := search.phone_tail(q):
        terms.append(Employee.person_id.in_(select(PersonClaim.person_id).where(
            *_own_claims(e), PersonClaim.phone_masked.endswith(tail, autoescape=True))))
    if name := search.name(q):
        terms.append(_name_term(session, vault, actor, e, name))
    return [or_(*terms)]


def _name_term(session: Session, vault: PiiVault, actor: Principal, e: Enterprise,
               name: str) -> ColumnElement[bool]:
    if authz.is_enterprise_admin(actor, e):
        employed = select(Employee.person_id).where(Employee.enterprise_id == e.id)
    elif heads := authz.headed_departments(actor):
        employed = select(Employee.person_id).where(Employee.enterprise_id == e.id,
                                                    Employee.department_id.in_(heads))
    else:
        # Masked reader: "高" finds 高*, a longer name finds nobody (it would test guesses).
        if len(name) > 1:
            return false()
        return Employee.person_id.in_(select(PersonClaim.person_id).where(
            *_own_claims(e), PersonClaim.name_masked.startswith(name, autoescape=True)))
    found = claims.people_named(session=session, vault=vault, source_kind="enterprise",
                                source_id=e.id, prefix=name, person_ids=employed)
    return Employee.person_id.in_(found) if found else false()
