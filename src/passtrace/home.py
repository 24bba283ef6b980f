"""The home page: what each of the user's roles may do, with what waits for them.

It reads several domains (passes to review, unread notices, residency), so it sits
above them, beside app.py, rather than inside accounts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.communities.compounds.overview import is_resident
from passtrace.core.security import Principal
from passtrace.notices.service import unread_count
from passtrace.passes import service as pass_service
from passtrace.reports import service as report_service
from passtrace.sites.models import Site
from passtrace.tracing import tasks as task_service
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


def _gates(session: Session, principal: Principal) -> list[Site]:
    """The compound gates this user staffs: their home links the gate's visitors and parcels."""
    codes = [b.scope_value for b in principal.bindings
             if b.role == "checkpoint_staff" and b.scope_type == "site"]
    if not codes:
        return []
    return list(session.scalars(select(Site).where(Site.code.in_(codes), Site.community_code != "")
                                .order_by(Site.code)))


def _supplies_tile(principal: Principal) -> str | None:
    """Which supplies tile the user gets: "officer" (an area), "depot" (their depot) or none."""
    scopes = {b.scope_type for b in principal.bindings if b.role == "supplies_officer"}
    if scopes & {"area", "global"}:
        return "officer"
    return "depot" if "depot" in scopes else None


@router.get("/")
def home(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Show the tasks this user's roles allow, with what is waiting for them."""
    pending = None
    if principal.has("pass.view_scope"):
        pending = pass_service.count_for_review(session=session, actor=principal)
    unread = unread_count(session=session, user_id=principal.user_id)
    overdue = (task_service.overdue_count(session=session, principal=principal)
               if principal.has("contact.view") else 0)
    # Only staff on an employer's list have a report to file; others learn how to join.
    files_reports = ("public" in principal.roles
                     and report_service.is_filer(session=session, actor=principal))
    return render(request, "home.html", {
        "roles": principal.roles, "pending": pending, "unread_notices": unread,
        "files_reports": files_reports, "overdue_tasks": overdue,
        "gates": _gates(session, principal),
        "supplies": _supplies_tile(principal),
        "is_resident": is_resident(session=session, person_id=principal.person_id)})
