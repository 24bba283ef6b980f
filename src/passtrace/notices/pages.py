"""The notices page: what reminders and escalations the user received."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from passtrace.core.i18n import gettext
from passtrace.notices import service as notice_service
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/notices", include_in_schema=False)


@router.get("")
def notices(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """List my notices, newest first."""
    rows = notice_service.list_for(session=session, user_id=principal.user_id)
    items = [{"at": n.created_at, "text": gettext(n.message, **n.params), "link": n.link,
              "unread": n.read_at is None, "kind": n.kind} for n in rows]
    return render(request, "notices/list.html", {"items": items})


@router.post("/read")
def mark_read(session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Mark all my notices read."""
    notice_service.mark_all_read(session=session, user_id=principal.user_id)
    return RedirectResponse("/notices", status_code=303)
