"""Who is yellow or red now in an official's areas: the list behind the dashboard's counts.

The dashboard counts a person once, at their worst live flag, where the flag's reason
arose (`StatusFlag.area_code`); this list names exactly those people, so a count and
its list agree. Each person shown reaches their access log.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.audit import service as audit
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.pagination import paginate_query
from passtrace.core.security import Principal
from passtrace.health import authz
from passtrace.health.models import StatusFlag
from passtrace.people.models import Person

PERMISSION = "health.view"
LEVELS = ("red", "yellow")
RANKS = {"red": 2, "yellow": 1}
AREA_LENGTHS = (6, 9, 12)
BAD_LEVEL = N_("Choose red or yellow.")
BAD_AREA = N_("Enter a division code (6, 9 or 12 digits).")


def live(now: datetime) -> ColumnElement[bool]:
    """A flag counting now: not cleared, started, not run out."""
    return and_(StatusFlag.cleared_at.is_(None), StatusFlag.starts_at <= now,
                or_(StatusFlag.until.is_(None), StatusFlag.until > now))


def worst_rank() -> ColumnElement[Any]:
    """A person's worst live flag as a number (red 2, yellow 1), to group by person."""
    return func.max(case((StatusFlag.level == "red", RANKS["red"]),
                         (StatusFlag.level == "yellow", RANKS["yellow"]), else_=0))


def in_prefixes(prefixes: tuple[str, ...] | None) -> ColumnElement[bool] | None:
    """Flags whose reason arose inside the prefixes (None: everywhere, no filter)."""
    if prefixes is None:
        return None
    if not prefixes:
        return false()
    return or_(*(StatusFlag.area_code.startswith(p, autoescape=True) for p in prefixes))


def scope(*, session: Session, actor: Principal, area: str) -> tuple[str, ...] | None:
    """The area prefixes the actor reads: their own, or one area inside them.

    A role without health.view (a resident) 403; an area outside the actor's 404, the
    same answer as an area that does not exist.
    """
    authz.require(actor, PERMISSION)
    if not area.strip():
        mine = actor.area_scopes(PERMISSION)
        return tuple(sorted(set(mine))) if mine is not None else None
    code = unicodedata.normalize("NFKC", area).strip()
    if not (code.isascii() and code.isdigit() and len(code) in AREA_LENGTHS):
        raise ValidationFailed(BAD_AREA, fields={"area": BAD_AREA})
    if not actor.covers_area(PERMISSION, code) or area_service.get(
            session=session, code=code) is None:
        raise NotFound(N_("No such area."))
    return (significant_prefix(code),)


def people(*, session: Session, actor: Principal, level: str, area: str,
           cursor: str | None, limit: int, via: str) -> tuple[list[Person], str | None]:
    """One page of the people whose worst live flag is `level`, in the actor's areas."""
    if level not in LEVELS:
        raise ValidationFailed(BAD_LEVEL, fields={"level": BAD_LEVEL})
    prefixes = scope(session=session, actor=actor, area=area)
    per_person = select(StatusFlag.person_id, worst_rank().label("rank")).where(
        live(utcnow()))
    where = in_prefixes(prefixes)
    if where is not None:
        per_person = per_person.where(where)
    worst = per_person.group_by(StatusFlag.person_id).subquery()
    stmt = select(Person).where(Person.id.in_(
        select(worst.c.person_id).where(worst.c.rank == RANKS[level])))
    rows: list[Person]
    rows, nxt = paginate_query(session, stmt, [Person.id], cursor=cursor, limit=limit)
    # Every person named on the page reaches their access log (one INSERT).
    audit.record_reads(session=session, actor=actor, action="health.view",
                       resource_type="person", people=[(p.id, p.id) for p in rows],
                       detail={"via": via, "level": level})
    return rows, nxt
