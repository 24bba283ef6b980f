"""Visitors API: invite, decide, cancel, the visitor's QR."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from passtrace.communities.visits import service as visits
from passtrace.communities.visits.schemas import VisitCancel, VisitCreate, VisitDecision, VisitRead
from passtrace.core.errors import NotFound
from passtrace.core.pagination import Page, paginate_items
from passtrace.core.validators import Day
from passtrace.passes import present as pass_present
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import files
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

# Mounted under /api/v1; the paths span /visits and /communities/{code}/visits.
router = APIRouter()

Code = Annotated[str, Path(pattern=r"^\d{12}$", description="the compound's code")]
StageFilter = Annotated[str | None, Query(
    pattern="^(pending|approved|inside|left|rejected|cancelled|expired)$",
    description="one stage only (approved = not yet come in)")]
QueryDay = Annotated[Day | None, Query(description="a local date; default: today "
                                                "(visits: plus every pending one ahead)")]


# --- the resident's side ---------------------------------------------------------------------

@router.post("/visits", response_model=VisitRead, status_code=201, tags=["visits"])
def invite(data: VisitCreate, response: Response, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> VisitRead:
    """Invite a visitor to your household (200 with the first one when it is a retry)."""
    v, created = visits.invite(session=session, rt=rt, actor=principal, data=data)
    if not created:
        response.status_code = 200
    return visits.to_read(visits.view_of(session, v))


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@router.get("/visits", response_model=Page[VisitRead], tags=["visits"])
def my_visits(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
              limit: Limit = DEFAULT_LIMIT) -> Page[VisitRead]:
    """The visitors you invited: upcoming first (soonest first), then past ones (latest first)."""
    today = visits.local_today()

    def position(row: visits.VisitView) -> tuple[object, ...]:
        v = row.visit
        if v.visit_date >= today:
            return (0, v.visit_date.toordinal(), _us(v.created_at), v.id)
        return (1, 0, -_us(v.created_at), v.id)

    rows, nxt = paginate_items(visits.list_mine(session=session, actor=principal, limit=1000),
                               position, cursor=cursor, limit=limit)
    return Page(items=[visits.to_read(row) for row in rows], next=nxt)


@router.get("/visits/{visit_id}", response_model=VisitRead, tags=["visits"])
def read_visit(visit_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
               principal: CurrentPrincipal) -> VisitRead:
    """One visit; its inviter also gets the visitor pass text once approved (audited)."""
    v = visits.get_visible(session=session, actor=principal, visit_id=visit_id)
    token = None
    if v.invited_by_user_id == principal.user_id and v.status == "approved":
        try:
            token = visits.visitor_pass(session=session, vault=rt.vault, actor=principal,
                                        visit_id=v.id, via="visit")[1]
        except NotFound:
            token = None
    return visits.to_read(visits.view_of(session, v), token=token)


@router.post("/visits/{visit_id}/cancel", response_model=VisitRead, tags=["visits"])
def cancel_visit(visit_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                 data: VisitCancel | None = None) -> VisitRead:
    """Call off a visit you invited; an issued pass is revoked."""
    v = visits.cancel(session=session, actor=principal, visit_id=visit_id,
                      reason=data.reason if data else "")
    return visits.to_read(visits.view_of(session, v))


def _attachment(download: bool, visit_id: uuid.UUID, ext: str) -> dict[str, str]:
    headers = {"Cache-Control": "private, max-age=300"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="visitor-pass-{visit_id}.{ext}"'
    return headers


@router.get("/visits/{visit_id}/qr.png", response_class=Response, tags=["visits"],
            responses=files("The visitor pass as a QR code.", "image/png"))
def visitor_qr_png(visit_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                   principal: CurrentPrincipal, download: bool = False) -> Response:
    """The visitor pass QR as PNG, for its inviter to send on (`download=true`: as a file)."""
    _, token = visits.visitor_pass(session=session, vault=rt.vault, actor=principal,
                                   visit_id=visit_id, via="qr")
    return Response(pass_present.cached_png(token), media_type="image/png",
                    headers=_attachment(download, visit_id, "png"))


@router.get("/visits/{visit_id}/qr.svg", response_class=Response, tags=["visits"],
            responses=files("The visitor pass as a QR code.", "image/svg+xml"))
def visitor_qr_svg(visit_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                   principal: CurrentPrincipal, download: bool = False) -> Response:
    """The visitor pass QR as SVG (sharp on paper)."""
    _, token = visits.visitor_pass(session=session, vault=rt.vault, actor=principal,
                                   visit_id=visit_id, via="qr")
    return Response(pass_present.cached_svg(token), media_type="image/svg+xml",
                    headers=_attachment(download, visit_id, "svg"))


# --- the compound's side ---------------------------------------------------------------------

@router.get("/communities/{code}/visits", response_model=Page[VisitRead], tags=["visits"])
def community_visits(code: Code, session: SessionDep, principal: CurrentPrincipal,
                     status: StageFilter = None, day: QueryDay = None, cursor: Cursor = None,
                     limit: Limit = DEFAULT_LIMIT) -> Page[VisitRead]:
    """A compound's visits: one day's, or today's plus every pending one ahead."""
    _, found = visits.list_for_community(session=session, actor=principal, code=code,
                                         stage=status, day=day)
    rows, nxt = paginate_items(
        found, lambda r: (r.visit.visit_date, _us(r.visit.created_at), r.visit.id),
        cursor=cursor, limit=limit)
    return Page(items=[visits.to_read(row) for row in rows], next=nxt)


@router.post("/communities/{code}/visits/{visit_id}/approve", response_model=VisitRead,
             tags=["visits"])
def approve_visit(code: Code, visit_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                  principal: CurrentPrincipal, data: VisitDecision | None = None) -> VisitRead:
    """Approve a pending visit: the visitor's one-time pass is issued."""
    v = visits.approve(session=session, rt=rt, actor=principal, code=code, visit_id=visit_id,
                       reason=data.reason if data else "")
    return visits.to_read(visits.view_of(session, v))


@router.post("/communities/{code}/visits/{visit_id}/reject", response_model=VisitRead,
             tags=["visits"])
def reject_visit(code: Code, visit_id: uuid.UUID, data: VisitDecision, session: SessionDep,
                 principal: CurrentPrincipal) -> VisitRead:
    """Refuse a pending visit (a reason is required; the resident reads it)."""
    v = visits.reject(session=session, actor=principal, code=code, visit_id=visit_id,
                      reason=data.reason)
    return visits.to_read(visits.view_of(session, v))
