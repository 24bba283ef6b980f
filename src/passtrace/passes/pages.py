"""Pass pages: apply, my passes with QR, the approver queue, detail, paper pass."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.audit import actors
from passtrace.audit import service as audit_service
from passtrace.audit.labels import action_label
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.errors import DomainError, Forbidden, NotFound
from passtrace.core.i18n import gettext
from passtrace.core.ids import uuid7
from passtrace.passes import appeals, authz, coercion, present, review
from passtrace.passes import service as pass_service
from passtrace.passes.forms import BulkApproveForm, DecisionForm, PassForm
from passtrace.passes.models import PURPOSES, STATUSES
from passtrace.passes.schemas import BulkApprove, PassCreate
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import LOCAL_INPUT, render

router = APIRouter(prefix="/passes", include_in_schema=False)
PAGE_SIZE = 50


def _form_context(session: Session, values: dict[str, object],
                  errors: dict[str, str]) -> dict[str, object]:
    return {"purposes": present.purpose_choices(), "area_choices": present.area_choices(session),
            "values": values, "errors": errors}


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
def apply(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
          form: Annotated[PassForm, Form()]) -> Response:
    """Validate the form; re-show it with messages, or go to the new pass."""
    def save(data: PassCreate) -> Response:
        p = pass_service.apply(session=session, rt=rt, actor=principal, data=data)
        return RedirectResponse(f"/passes/{p.id}", status_code=303)

    def again(f: forms.Failure) -> Response:
        return render(request, "passes/apply.html",
                      {**_form_context(session, f.values, f.errors_or_message),
                       "message": f.message},
                      status_code=f.status)

    return forms.submit(session, form, save, again)


@router.get("/mine")
def mine(request: Request, session: SessionDep, rt: RuntimeDep,
         principal: CurrentPrincipal) -> Response:
    """List my passes, the valid ones with their QR."""
    rows, _ = pass_service.list_mine(session=session, actor=principal, limit=100)
    items = present.to_read_many(session, rows, with_token=True, vault=rt.vault)
    return render(request, "passes/mine.html", {"items": items})


def _list_filter(status: str, purpose: str, q: str, issued: str) -> review.ListFilter:
    # A page link is typed and edited by hand: anything unknown falls back to the default.
    return review.ListFilter(
        status=status if status in STATUSES else "pending",
        purpose=purpose if purpose in (*PURPOSES, *review.ISSUED_PURPOSES) else None,
        q=review.normalize_query(q), include_issued=issued == "1")


def _queue(request: Request, session: Session, principal: CurrentPrincipal,
           f: review.ListFilter, cursor: str | None, bulk: dict[str, object] | None = None,
           status_code: int = 200) -> Response:
    if not principal.has("pass.view_scope"):
        raise Forbidden("Your role does not allow this.")
    rows, nxt = review.list_passes(session=session, actor=principal, f=f, cursor=cursor,
                                   limit=PAGE_SIZE)
    items = present.to_read_many(session, rows, with_token=False)
    query = {"status": f.status or "", "purpose": f.purpose or "", "q": f.q,
             "issued": "1" if f.include_issued else ""}
    keep = {k: v for k, v in query.items() if v}
    return render(request, "passes/queue.html", {
        "items": items, "status": f.status, "filter": query,
        "purposes": present.purpose_choices(include_issued=True),
        "tab_query": {k: v for k, v in keep.items() if k != "status"},
        "next_url": f"/passes/review?{urlencode({**keep, 'cursor': nxt})}" if nxt else None,
        "first_url": f"/passes/review?{urlencode(keep)}" if cursor else None,
        "bulk": bulk}, status_code=status_code)


@router.get("/review")
def review_list(request: Request, session: SessionDep, principal: CurrentPrincipal,
                status: str = "pending", purpose: str = "", q: str = "", issued: str = "",
                cursor: str | None = None) -> Response:
    """Show the approver queue (or the decided passes) for my jurisdiction."""
    f = _list_filter(status, purpose, q[:review.QUERY_MAX * 2], issued)
    return _queue(request, session, principal, f, cursor)


@router.post("/review/approve")
def approve_selected(request: Request, session: SessionDep, rt: RuntimeDep,
                     principal: CurrentPrincipal,
                     form: Annotated[BulkApproveForm, Form()]) -> Response:
    """Approve the ticked passes with one reason; show the queue with what was not approved."""
    pending = review.ListFilter()

    def save(data: BulkApprove) -> Response:
        result = review.approve_many(session=session, rt=rt, actor=principal,
                                     pass_ids=data.pass_ids, reason=data.reason)
        return _queue(request, session, principal, pending, None, bulk={
            "approved": len(result.approved),
            "refused": [{"id": pid, "message": exc.translated()}
                        for pid, exc in result.refused]})

    def again(f: forms.Failure) -> Response:
        message = f.first_error
        if "pass_ids" in f.errors:  # pydantic's "at least 1 item" says nothing here
            message = gettext("Choose at least one pass.")
        return _queue(request, session, principal, pending, None,
                      bulk={"error": message, "reason": form.reason}, status_code=f.status)

    return forms.submit(session, form, save, again)


@router.get("/{pass_id}")
def detail(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> Response:
    """Show a pass: status and reasons, QR for the holder, decisions for reviewers."""
    p = pass_service.read(session=session, actor=principal, pass_id=pass_id)
    view = present.to_read(session, p, with_token=authz.is_holder(principal, p),
                           vault=rt.vault)
    entries = list(reversed(audit_service.list_entries(
        session=session, resource_type="pass", resource_id=str(p.id),
        # Reads belong in the holder's access log, not in the decision history.
        exclude_actions=("pass.view",), limit=50)))
    actor = actors.labels(session=session, entries=entries)  # a role, not a login
    history = [{"at": e.at, "actor": actor(e), "action": action_label(e.action),
                "reason": e.reason} for e in entries]
    return render(request, "passes/detail.html", {
        "history": history,
        "p": view, "is_holder": authz.is_holder(principal, p),
        "can_review": authz.can_review(principal, p) and p.status == "pending",
        "can_revoke": authz.can_revoke(principal, p) and p.status in ("pending", "approved"),
        "can_reveal": authz.covers_all_areas(principal, "person.reveal", p),
        "revealed": None,
        "revoke_reason_label": coercion.reason_label(p.revoke_reason_code),
        "appeal": appeals.for_pass(session=session, pass_id=p.id),
        "can_appeal": authz.is_holder(principal, p) and appeals.appealable(p),
    })


@router.get("/{pass_id}/print")
def print_pass(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
               principal: CurrentPrincipal, size: str = "a4") -> Response:
    """Show the printable paper pass (A4 or A6)."""
    p = pass_service.read(session=session, actor=principal, pass_id=pass_id, via="print")
    view = present.to_read(session, p, with_token=authz.is_holder(principal, p),
                           vault=rt.vault)
    if view.token is None:
        raise NotFound("The QR code appears once the pass is approved and valid.")
    return render(request, "passes/print.html", {"p": view,
                                                 "size": "a6" if size == "a6" else "a4"})


def _decide(action: str, request: Request, pass_id: uuid.UUID, session: Session,
            rt: RuntimeDep, principal: CurrentPrincipal, reason: str,
            reason_code: str | None = None) -> Response:
    if request.headers.get("hx-request") == "true":
        return _decide_in_row(action, request, pass_id, session, rt, principal, reason)

    def change() -> Response:
        if action == "approve":
            pass_service.approve(session=session, rt=rt, actor=principal, pass_id=pass_id,
                                 reason=reason)
        elif action == "reject":
            pass_service.reject(session=session, actor=principal, pass_id=pass_id, reason=reason,
                                settings=rt.settings)
        else:
            pass_service.revoke(session=session, actor=principal, pass_id=pass_id, reason=reason,
                                reason_code=reason_code, settings=rt.settings)
        return RedirectResponse(f"/passes/{pass_id}", status_code=303)

    def refused(f: forms.Failure) -> Response:
        return render(request, "error.html", {"status": f.status, "message": f.message,
                                              "back": f"/passes/{pass_id}"},
                      status_code=f.status)

    return forms.attempt(session, change, refused)


def _decide_in_row(action: str, request: Request, pass_id: uuid.UUID, session: Session,
                   rt: RuntimeDep, principal: CurrentPrincipal, reason: str) -> Response:
    """Approve from the queue without leaving it: answer the updated table row."""
    def row(error: str | None = None, refused: bool = False) -> Response:
        # A refused approval (someone decided first) shows the holder again, and its
        # savepoint took back what the attempt wrote: a read in their access log. An
        # approval that stood is in it already (pass.approve names the holder).
        p = (pass_service.get_visible(session=session, actor=principal, pass_id=pass_id)
             if not refused else
             pass_service.read(session=session, actor=principal, pass_id=pass_id,
                               via="review_row"))
        # htmx swaps 2xx answers only; the row carries the error message itself.
        return render(request, "passes/_queue_row.html",
                      {"p": present.to_read(session, p, with_token=False), "row_error": error,
                       "selectable": True})

    def change() -> Response:
        if action != "approve":
            raise DomainError("Only approval can be done from the list.")
        pass_service.approve(session=session, rt=rt, actor=principal, pass_id=pass_id,
                             reason=reason)
        return row()

    return forms.attempt(session, change, lambda f: row(f.message, refused=True))


@router.post("/{pass_id}/approve")
def approve(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
            principal: CurrentPrincipal, form: Annotated[DecisionForm, Form()]) -> Response:
    """Approve from the detail page."""
    return _decide("approve", request, pass_id, session, rt, principal, form.reason)


@router.post("/{pass_id}/reject")
def reject(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, form: Annotated[DecisionForm, Form()]) -> Response:
    """Reject from the detail page."""
    return _decide("reject", request, pass_id, session, rt, principal, form.reason)


@router.post("/{pass_id}/revoke")
def revoke(request: Request, pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, form: Annotated[DecisionForm, Form()]) -> Response:
    """Revoke or withdraw from the detail page."""
    return _decide("revoke", request, pass_id, session, rt, principal, form.reason,
                   form.reason_code or None)
