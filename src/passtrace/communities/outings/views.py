"""Outings API: who is out now, outings per household this week, in/out by hour."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from passtrace.communities.compounds import service as community_service
from passtrace.communities.outings import present
from passtrace.communities.outings import service as outing_service
from passtrace.communities.outings.schemas import OutRead, WeeklyRead
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.pagination import Page, paginate_items
from passtrace.core.validators import Day
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/communities", tags=["communities"])


@router.get("/{code}/out", response_model=Page[OutRead])
def who_is_out(code: str, session: SessionDep, principal: CurrentPrincipal,
               overdue: bool = False, cursor: Cursor = None,
               limit: Limit = DEFAULT_LIMIT) -> Page[OutRead]:
    """Residents out now, longest out first (`overdue=true`: only those overdue)."""
    c = community_service.get_visible(session=session, actor=principal, code=code)
    rows, nxt = paginate_items(
        outing_service.who_is_out(session=session, c=c, overdue_only=overdue),
        lambda r: (r.out_at, r.outing_id), cursor=cursor, limit=limit)
    community_service.record_resident_reads(session=session, actor=principal, people=[
        (r.outing_id, r.person_id) for r in rows], via="who_is_out")
    return Page(items=[present.out_now(r) for r in rows], next=nxt)


@router.get("/{code}/outings/week", response_model=Page[WeeklyRead])
def outings_this_week(code: str, session: SessionDep, principal: CurrentPrincipal,
                      cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[WeeklyRead]:
    """Outings per household since Monday, most first."""
    c = community_service.get_visible(session=session, actor=principal, code=code)
    rows, nxt = paginate_items(
        outing_service.outings_this_week(session=session, c=c),
        lambda w: (-w.outings, community_service.natural_key(w.household), w.household_id),
        cursor=cursor, limit=limit)
    return Page(items=[present.weekly(r) for r in rows], next=nxt)


class InOutRead(BaseModel):
    """Allowed entries and exits per local hour (0-23) of one day."""

    day: date
    entries: list[int]
    exits: list[int]


@router.get("/{code}/in-out", response_model=InOutRead)
def in_out_by_hour(code: str, session: SessionDep, principal: CurrentPrincipal,
                   day: Day | None = None) -> InOutRead:
    """Entries and exits at the compound's gates by hour (today unless `day` is given)."""
    c = community_service.get_visible(session=session, actor=principal, code=code)
    day = day or utcnow().astimezone(LOCAL_TZ).date()
    series = outing_service.in_out_by_hour(session=session, c=c, day=day)
    return InOutRead(day=day, entries=series["in"], exits=series["out"])
