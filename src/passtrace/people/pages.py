"""People pages: reveal a field with a reason; who viewed my data."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from passtrace.audit import service as audit_service
from passtrace.audit.labels import action_label
from passtrace.core.errors import DomainError
from passtrace.core.i18n import lazy_gettext
from passtrace.people import flows
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)

FIELD_LABELS = {
    "id_number": lazy_gettext("ID number"),
    "name": lazy_gettext("Name"),
    "phone": lazy_gettext("Mobile number"),
}


@router.post("/people/{person_id}/reveal")
def reveal(request: Request, person_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, field: Annotated[str, Form()] = "id_number",
           reason: Annotated[str, Form(max_length=300)] = "",
           back: Annotated[str, Form()] = "/") -> Response:
    """Reveal a field and show it once, with the audit notice."""
    back = back if back.startswith("/") and not back.startswith("//") else "/"
    if field not in FIELD_LABELS:
        field = "id_number"
    try:
        value = flows.reveal(session=session, rt=rt, actor=principal, person_id=person_id,
                             field=field, reason=reason)  # type: ignore[arg-type]
    except DomainError as exc:
        session.rollback()
        return render(request, "error.html", {"status": exc.status, "message": exc.translated(),
                                              "back": back}, status_code=exc.status)
    return render(request, "people/revealed.html", {"field_label": str(FIELD_LABELS[field]),
                                                    "value": value, "reason": reason,
                                                    "back": back})


@router.get("/me/access-log")
def access_log(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Show who read or changed my data."""
    entries = (audit_service.views_of_person(session=session, person_id=principal.person_id)
               if principal.person_id else [])
    rows = [{"at": e.at, "actor": e.actor_name,
             "action": action_label(e.action), "reason": e.reason}
            for e in entries]
    return render(request, "people/access_log.html", {"rows": rows})
