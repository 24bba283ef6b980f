"""Visitor pages: the resident's invitations, the manager's visitor list.

Forms come back with translated messages beside the fields; nothing a user types
makes a server error.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.communities.compounds import authz
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.page_helpers import (
    CONTROL,
    clean_text,
    community_or_404,
    compound_nav,
    query_day,
)
from passtrace.communities.visits import service as visits
from passtrace.communities.visits.forms import InviteForm, ReasonForm
from passtrace.communities.visits.schemas import VisitCreate
from passtrace.core.clock import local_today
from passtrace.core.errors import NotFound
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)
# Messages for fields whose generic pydantic message would not say what to do.
VISIT_FIELD_MESSAGES = {"visit_date": N_("Enter a date."),
                        "community": N_("Choose the community."),
                        "id": N_("Please reload the page and try again.")}


# --- the resident: invitations ---------------------------------------------------------------

def _invite_page(request: Request, session: Session, principal: Principal,
                 values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
                 message: str | None = None) -> Response:
    homes = (community_service.residences_of(session=session, person_id=principal.person_id)
             if principal.person_id is not None else [])
    today = local_today()
    return render(request, "communities/visits/mine.html", {
        "items": [visits.to_read(row, today=today)
                  for row in visits.list_mine(session=session, actor=principal)],
        "homes": [{"code": c.code, "name": c.name,
                   "household": community_service.household_label(b.name, h.unit, h.room)}
                  for _, h, b, c in homes],
        "values": values, "errors": errors, "message": message,
        "min_date": today.isoformat(),
        "max_date": (today + timedelta(days=visits.MAX_DAYS_AHEAD)).isoformat(),
        "max_days": visits.MAX_DAYS_AHEAD}, status_code=status_code)


@router.get("/community/visits")
def my_visits(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """My invitations and the form to invite a visitor."""
    values = {"request_id": str(uuid7()), "visit_date": local_today().isoformat()}
    return _invite_page(request, session, principal, values, {})


@router.post("/community/visits")
def invite(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
           form: Annotated[InviteForm, Form()]) -> Response:
    """Invite a visitor, or show the form again with messages beside the fields."""
    def save(data: VisitCreate) -> Response:
        v, _ = visits.invite(session=session, rt=rt, actor=principal, data=data)
        return RedirectResponse(f"/community/visits/{v.id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _invite_page(
        request, session, principal, f.values, f.errors, f.status, f.message),
        messages=VISIT_FIELD_MESSAGES)


def _visit_detail(request: Request, session: Session, rt: Runtime, principal: Principal,
                  visit_id: uuid.UUID, *, template: str, via: str,
                  message: str | None = None, status_code: int = 200) -> Response:
    v = visits.get_for_inviter(session=session, actor=principal, visit_id=visit_id)
    token = None
    if v.status == "approved" and v.exited_at is None:
        try:
            token = visits.visitor_pass(session=session, vault=rt.vault, actor=principal,
                                        visit_id=v.id, via=via)[1]
        except NotFound:
            token = None
    view = visits.to_read(visits.view_of(session, v), token=token)
    return render(request, template, {"v": view, "message": message,
                                      "can_cancel": view.stage in ("pending", "approved")},
                  status_code=status_code)


@router.get("/community/visits/{visit_id}")
def visit_detail(request: Request, visit_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                 principal: CurrentPrincipal) -> Response:
    """One invitation: where it stands and, once approved, the visitor's QR to send on."""
    return _visit_detail(request, session, rt, principal, visit_id,
                         template="communities/visits/detail.html", via="visit_page")


@router.get("/community/visits/{visit_id}/print")
def visit_print(request: Request, visit_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal, size: str = "a6") -> Response:
    """The visitor pass on paper (A6 by default, or A4)."""
    v = visits.get_for_inviter(session=session, actor=principal, visit_id=visit_id)
    _, token = visits.visitor_pass(session=session, vault=rt.vault, actor=principal,
                                   visit_id=v.id, via="print")
    view = visits.to_read(visits.view_of(session, v), token=token)
    return render(request, "communities/visits/print.html",
                  {"v": view, "size": "a4" if size == "a4" else "a6"})


@router.post("/community/visits/{visit_id}/cancel")
def cancel(request: Request, visit_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, form: Annotated[ReasonForm, Form()]) -> Response:
    """Call the visit off (the pass, if issued, is revoked)."""
    def change() -> Response:
        visits.cancel(session=session, actor=principal, visit_id=visit_id,
                      reason=form.clean_reason)
        return RedirectResponse(f"/community/visits/{visit_id}", status_code=303)

    return forms.attempt(session, change, lambda f: _visit_detail(
        request, session, rt, principal, visit_id, template="communities/visits/detail.html",
        via="visit_page", message=f.message, status_code=f.status))


# --- the manager: visitors -------------------------------------------------------------------

STAGE_FILTERS = ("pending", "inside", "approved", "left", "rejected", "cancelled", "expired")


def _manager_page(request: Request, session: Session, principal: Principal, code: str,
                  stage: str, day_raw: str, *, message: str | None = None,
                  error_visit: uuid.UUID | None = None, status_code: int = 200) -> Response:
    c = community_or_404(session, principal, code)
    stage = stage if stage in STAGE_FILTERS else ""
    day, day_error = query_day(day_raw)
    _, rows = visits.list_for_community(session=session, actor=principal, code=c.code,
                                        stage=stage or None, day=day)
    today = local_today()
    items = [visits.to_read(r, today=today) for r in rows]
    query = "&".join(f"{k}={v}" for k, v in (("stage", stage),
                                               ("day", day.isoformat() if day else "")) if v)
    return render(request, "communities/visits/manage.html", {
        **compound_nav(principal, c, "visits"), "items": items, "stage": stage,
        "day": day.isoformat() if day else "", "day_error": day_error, "today": today,
        "back": f"/communities/{c.code}/visits" + (f"?{query}" if query else ""),
        "can_review": authz.can_review_visits(principal, c), "message": message,
        "error_visit": str(error_visit) if error_visit else "",
        "pending": sum(1 for i in items if i.stage == "pending"),
        "inside": sum(1 for i in items if i.stage == "inside")}, status_code=status_code)


@router.get("/communities/{code}/visits")
def manage(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
           stage: str = "", day: str = "") -> Response:
    """Today's visitors and every pending invitation, with approve and reject."""
    return _manager_page(request, session, principal, code, clean_text(stage, 20), day)


def _back(code: str, back: str) -> str:
    """Return to the list the decision was made from (only ever this compound's list)."""
    base = f"/communities/{code}/visits"
    ok = back == base or (back.startswith(base + "?") and not CONTROL.search(back))
    return back if ok else base


def _decide(request: Request, session: Session, rt: RuntimeDep, principal: Principal,
            code: str, visit_id: uuid.UUID, action: str, form: ReasonForm) -> Response:
    back = _back(code, form.back)
    reason = form.clean_reason

    def change() -> Response:
        if action == "approve":
            visits.approve(session=session, rt=rt, actor=principal, code=code,
                           visit_id=visit_id, reason=reason)
        else:
            visits.reject(session=session, actor=principal, code=code, visit_id=visit_id,
                          reason=reason)
        return RedirectResponse(back, status_code=303)

    def refused(f: forms.Failure) -> Response:
        query = dict(p.partition("=")[::2] for p in back.partition("?")[2].split("&") if p)
        return _manager_page(request, session, principal, code, query.get("stage", ""),
                             query.get("day", ""), message=f.message,
                             error_visit=visit_id, status_code=f.status)

    return forms.attempt(session, change, refused)


@router.post("/communities/{code}/visits/{visit_id}/approve")
def approve(request: Request, code: str, visit_id: uuid.UUID, session: SessionDep,
            rt: RuntimeDep, principal: CurrentPrincipal,
            form: Annotated[ReasonForm, Form()]) -> Response:
    """Approve from the list: the visitor's pass is issued."""
    return _decide(request, session, rt, principal, code, visit_id, "approve", form)


@router.post("/communities/{code}/visits/{visit_id}/reject")
def reject(request: Request, code: str, visit_id: uuid.UUID, session: SessionDep,
           rt: RuntimeDep, principal: CurrentPrincipal,
           form: Annotated[ReasonForm, Form()]) -> Response:
    """Refuse from the list (a reason is required)."""
    return _decide(request, session, rt, principal, code, visit_id, "reject", form)
