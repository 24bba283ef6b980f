"""People pages: reveal a field with a reason; who viewed my data."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from passtrace.audit import access_log as access_log_service
from passtrace.audit import actors
from passtrace.audit.labels import action_label
from passtrace.core.i18n import lazy_gettext
from passtrace.people import flows
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)

FIELD_LABELS = {
    "id_number": lazy_gettext("ID number"),
    "name": lazy_gettext("Name"),
    "phone": lazy_gettext("Mobile number"),
}


class RevealForm(BaseModel):
    """Reveal a field: which one, why, and the page to go back to."""

    model_config = ConfigDict(extra="ignore")

    field: str = "id_number"
    purpose: str = Field(default="", max_length=32)
    reason: str = Field(default="", max_length=300)
    back: str = "/"


@router.post("/people/{person_id}/reveal")
def reveal(request: Request, person_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, form: Annotated[RevealForm, Form()]) -> Response:
    """Reveal a field and show it once, with the audit notice."""
    back = form.back if form.back.startswith("/") and not form.back.startswith("//") else "/"
    field = form.field if form.field in FIELD_LABELS else "id_number"

    def shown() -> Response:
        value = flows.reveal(session=session, rt=rt, actor=principal, person_id=person_id,
                             field=field, reason=form.reason,  # type: ignore[arg-type]
                             purpose=form.purpose or None)
        return render(request, "people/revealed.html", {
            "field_label": str(FIELD_LABELS[field]), "value": value, "reason": form.reason,
            "back": back})

    return forms.attempt(session, shown, lambda f: render(
        request, "error.html", {"status": f.status, "message": f.message, "back": back},
        status_code=f.status))


@router.get("/me/access-log")
def access_log(request: Request, session: SessionDep, principal: CurrentPrincipal,
               cursor: Annotated[str | None, Query(max_length=24)] = None) -> Response:
    """Show who read or changed my data: reads in clear and exports first, in pages."""
    def shown(page: access_log_service.AccessPage) -> Response:
        actor = actors.labels(session=session, entries=page.entries)  # a role, not a login
        rows = [{"at": e.at, "actor": actor(e), "action": action_label(e.action),
                 "reason": e.reason, "sensitive": access_log_service.is_sensitive(e.action)}
                for e in page.entries]
        return render(request, "people/access_log.html", {
            "rows": rows, "next_cursor": page.next_cursor, "first_page": cursor is None})

    return forms.attempt(session, lambda: shown(
        access_log_service.access_page(session=session, person_id=principal.person_id,
                                       cursor=cursor)
        if principal.person_id else access_log_service.AccessPage([], None)),
        lambda f: render(request, "error.html", {"status": f.status, "message": f.message,
                                                 "back": "/me/access-log"},
                         status_code=f.status))
