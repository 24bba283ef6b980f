"""The home page: what each of the user's roles may do, with what waits for them.

It reads several domains (passes to review, unread notices, residency), so it sits
above them, beside app.py, rather than inside accounts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.communities.compounds.overview import is_resident
from passtrace.notices.service import unread_count
from passtrace.passes import service as pass_service
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Show the tasks this user's roles allow, with what is waiting for them."""
    pending = None
    if principal.has("pass.view_scope"):
        pending = pass_service.count_for_review(session=session, actor=principal)
    unread = unread_count(session=session, user_id=principal.user_id)
    return render(request, "home.html", {
        "roles": principal.roles, "pending": pending, "unread_notices": unread,
        "is_resident": is_resident(session=session, person_id=principal.person_id)})
