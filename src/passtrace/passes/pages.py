"""Pass pages: apply, my passes with QR, the approver queue, detail, paper pass."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.audit.labels import action_label
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.errors import DomainError, Forbidden, NotFound
from passtrace.core.i18n import N_, gettext
from passtrace.core.ids import uuid7
from passtrace.passes import authz, present
from passtrace.passes import service as pass_service
from passtrace.passes.schemas import PassCreate
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.errors import FIELD_MESSAGES
from passtrace.web.render import LOCAL_INPUT, render

router = APIRouter(prefix="/passes", include_in_schema=False)


def _form_context(session: Session, values: dict[str, object],
                  errors: dict[str, str]) -> dict[str, object]:
    return {"purposes": present.purpose_choices(), "area_choices": present.area_choices(session),
            "values": values, "errors": errors}


def _parse_local(value: str) -> datetime | str:
    try:
        return datetime.strptime(value, LOCAL_INPUT).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        return value  # left for the schema to reject with a field message


@router.get("/apply")
def apply_form(request: Request, session: SessionDep, principal: CurrentPrincipal,
               copy: uuid.UUID | None = None) -> Response:
    """Show the application form: fresh, or copied from one of my earlier passes."""
    if not principal.has("pass.apply"):
        raise Forbidden("Your account may not apply for passes.")
    start = utcnow().astimezone(LOCAL_TZ).replace(minute=0, second=0, microsecond=0)
    length = timedelta(days=7)
    values: dict[str, object] = {"purpose": "commute", "areas": [], "companions": 0}
    if copy is not None:
        # Commuters renew the same pass week after week: start from the old one.
        old = pass_service.get_visible(session=session, actor=principal, pass_id=copy)
        if not authz.is_holder(principal, old):
            raise NotFound("No such pass.")
        length = old.valid_until - old.valid_from
        values = {"purpose": old.purpose, "areas": old.areas, "plate": old.plate or "",
                  "companions": old.companions, "reason": old.reason}
    values.update({"request_id": str(uuid7()), "valid_from": start.strftime(LOCAL_INPUT),
                   "valid_until": (start + length).strftime(LOCAL_INPUT)})
    return render(request, "passes/apply.html", _form_context(session, values, {}))


@router.post("/apply")
def apply(
    request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
    purpose: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    valid_from: Annotated[str, Form()] = "",
    valid_until: Annotated[str, Form()] = "",
    areas: Annotated[list[str] | None, Form()] = None,
    plate: Annotated[str, Form()] = "",
    companions: Annotated[str, Form()] = "0",
    request_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    """Validate the form; re-show it with messages, or go to the new pass."""
    values: dict[str, object] = {"request_id": request_id, "purpose": purpose,
                                 "reason": reason, "valid_from": valid_from,
                                 "valid_until": valid_until, "areas": areas or [],
                                 "plate": plate, "companions": companions}
    try:
        data = PassCreate(id=request_id or None, purpose=purpose,  # type: ignore[arg-type]
                          reason=reason,
                          valid_from=_parse_local(valid_from),  # type: ignore[arg-type]
                          valid_until=_parse_local(valid_until),  # type: ignore[arg-type]
                          areas=areas or [], plate=plate or None,
                          companions=companions or 0)  # type: ignore[arg-type]
        p = pass_service.apply(session=session, rt=rt, actor=principal, data=data)
    except ValidationError as exc:
        errors = {str(e["loc"][0]): gettext(FIELD_MESSAGES.get(e["type"],
                                                               N_("This value is not valid.")))
                  for e in exc.errors()}
        return render(request, "passes/apply.html", _form_context(session, values, errors),
                      status_code=422)
    except DomainError as exc:
        session.rollback()
        errors = exc.translated_fields() or {"form": exc.translated()}
        return render(request, "passes/apply.html",
                      {**_form_context(session, values, errors), "message": exc.translated()},
                      status_code=exc.status)
    return RedirectResponse(f"/passes/{p.id}", status_code=303)


@router.get("/mine")
def mine(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """List my passes, the valid ones with their QR."""
    rows, _ = pass_service.list_mine(session=session, actor=principal, limit=100)
    items = present.to_read_many(session, rows, with_token=True)
    return render(request, "passes/mine.html", {"items": items})


@router.get("/review")
def review(request: Request, session: SessionDep, principal: CurrentPrincipal,
           status: str = "pending") -> Response:
    """Show the approver queue for my jurisdiction."""
    if not principal.has("pass.view_scope"):
        raise Forbidden("Your role does not allow this.")
    if status not in ("pending", "approved", "rejected", "revoked"):
        status = "pending"
    rows, _ = pass_service.list_for_review(session=session, actor=principal, status=status,
                                           limit=200)
    items = present.to_read_many(session, rows, with_token=False)
    return render(request, "passes/queue.html", {"items": items, "status": status})


@router.get("/{pass_id}")
def detail(request: Request, pass_id: uuid.UUID, session: SessionDep,
           principal: CurrentPrincipal) -> Response:
    """Show a pass: status and reasons, QR for the holder, decisions for reviewers."""
    p = pass_service.read(session=session, actor=principal, pass_id=pass_id)
    view = present.to_read(session, p, with_token=True)
    history = [{"at": e.at, "actor": e.actor_name, "action": action_label(e.action),
                "reason": e.reason}
               for e in reversed(audit_service.list_entries(
                   session=session, resource_type="pass", resource_id=str(p.id),
                   # Reads belong in the holder's access log, not in the decision history.
                   exclude_actions=("pass.view",), limit=50))]
    return render(request, "passes/detail.html", {
        "history": history,
        "p": view, "is_holder": authz.is_holder(principal, p),
        "can_review": authz.can_review(principal, p) and p.status == "pending",
        "can_revoke": authz.can_revoke(principal, p) and p.status in ("pending", "approved"),
        "can_reveal": authz.covers_all_areas(principal, "person.reveal", p),
        "revealed": None,
    })


@router.get("/{pass_id}/print")
def print_pass(request: Request, pass_id: uuid.UUID, session: SessionDep,
               principal: CurrentPrincipal, size: str = "a4") -> Response:
    """Show the printable paper pass (A4 or A6)."""
    p = pass_service.read(session=session, actor=principal, pass_id=pass_id, via="print")
    view = present.to_read(session, p, with_token=True)
    if view.token is None:
        raise NotFound("The QR code appears once the pass is approved and valid.")
    return render(request, "passes/print.html", {"p": view,
                                                 "size": "a6" if size == "a6" else "a4"})


def _decide(action: str, request: Request, pass_id: uuid.UUID, session: Session,
            rt: RuntimeDep, principal: CurrentPrincipal, reason: str) -> Response:
    if request.headers.get("hx-request") == "true":
        return _decide_in_row(action, request, pass_id, session, rt, principal, reason)
    try:
        if action == "approve":
            pass_service.approve(session=session, rt=rt, actor=principal, pass_id=pass_id,
                                 reason=reason)
        elif action == "reject":
            pass_service.reject(session=session, actor=principal, pass_id=pass_id, reason=reason)
        else:
            pass_service.revoke(session=session, actor=principal, pass_id=pass_id, reason=reason)
    except DomainError as exc:
        session.rollback()
        return render(request, "error.html", {"status": exc.status,
                                              "message": exc.translated(),
                                              "back": f"/passes/{pass_id}"},
                      status_code=exc.status)
    return RedirectResponse(f"/passes/{pass_id}", status_code=303)


def _decide_in_row(action: str, request: Request, pass_id: uuid.UUID, session: Session,
                   rt: RuntimeDep, principal: CurrentPrincipal, reason: str) -> Response:
    """Approve from the queue without leaving it: answer the updated table row."""
    row_error = None
    try:
        if action != "approve":
            raise DomainError("Only approval can be done from the list.")
        p = pass_service.approve(session=session, rt=rt, actor=principal, pass_id=pass_id,
                                 reason=reason)
    except DomainError as exc:
        session.rollback()
        row_error = exc.translated()
        p = pass_service.get_visible(session=session, actor=principal, pass_id=pass_id)
    # htmx swaps 2xx answers only; the row carries the error message itself.
    return render(request, "passes/_queue_row.html",
                  {"p": present.to_read(session, p, with_token=False), "row_error": row_error})


@router.post("/{pass_id}/approve")
def approve(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
            principal: CurrentPrincipal, reason: Annotated[str, Form(max_length=500)] = "",
            ) -> Response:
    """Approve from the detail page."""
    return _decide("approve", request, pass_id, session, rt, principal, reason)


@router.post("/{pass_id}/reject")
def reject(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, reason: Annotated[str, Form(max_length=500)] = "",
           ) -> Response:
    """Reject from the detail page."""
    return _decide("reject", request, pass_id, session, rt, principal, reason)


@router.post("/{pass_id}/revoke")
def revoke(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, reason: Annotated[str, Form(max_length=500)] = "",
           ) -> Response:
    """Revoke or withdraw from the detail page."""
    return _decide("revoke", request, pass_id, session, rt, principal, reason)
