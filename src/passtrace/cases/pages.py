"""Case pages: the list (search, filters, paging), the new-case form, and the case page
with its timeline, history, edits and the contacts section (loaded from tracing)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.cases import authz, present, timeline
from passtrace.cases import service as case_service
from passtrace.cases.forms import CaseEditForm, CaseForm, TransitionForm
from passtrace.cases.models import Case
from passtrace.cases.schemas import CaseCreate, CaseTransition, CaseUpdate
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import N_, gettext
from passtrace.core.pagination import MAX_LIMIT
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/cases", include_in_schema=False)
PAGE_SIZE = 50


def _need(principal: Principal, permission: str) -> None:
    if not principal.has(permission):
        raise Forbidden("Your role does not allow this.")


def _choices(session: Session, principal: Principal) -> dict[str, object]:
    return {"area_choices": present.area_choices(session, principal.area_scopes("case.manage")),
            "classifications": [(k, gettext(v)) for k, v in
                                present.CLASSIFICATION_LABELS.items()]}


@router.get("")
def index(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
          status: str = "", classification: str = "", area: str = "", q: str = "",
          cursor: str = "") -> Response:
    """List cases in my jurisdiction: filter by status, classification, area; find by ID."""
    _need(principal, "case.view")
    status = status if status in present.STATUS_LABELS else ""
    classification = classification if classification in present.CLASSIFICATION_LABELS else ""
    area = area if area.isascii() and area.isdigit() and len(area) in (6, 9, 12) else ""
    search_error, id_hash = None, None
    if q.strip():
        try:
            id_hash = rt.vault.lookup_hash(validate_id_number(q))
        except InvalidValue as exc:
            search_error = gettext(exc.message)
    rows: list[Case] = []
    nxt = None
    if search_error is None:
        rows, nxt = case_service.list_cases(
            session=session, actor=principal, status=status or None,
            classification=classification or None, area=area or None, id_hash=id_hash,
            cursor=cursor[:600] or None, limit=min(PAGE_SIZE, MAX_LIMIT))
    return render(request, "cases/list.html", {
        "items": present.to_read_many(session, rows), "next": nxt,
        "filters": {"status": status, "classification": classification, "area": area, "q": q},
        "statuses": [(k, gettext(v)) for k, v in present.STATUS_LABELS.items()],
        "search_error": search_error, "can_manage": principal.has("case.manage"),
        **_choices(session, principal)})


def _new_page(request: Request, session: Session, principal: Principal,
              values: dict[str, object], errors: dict[str, str], message: str | None = None,
              status_code: int = 200) -> Response:
    return render(request, "cases/new.html", {"values": values, "errors": errors,
                                              "message": message, **_choices(session, principal)},
                  status_code=status_code)


@router.get("/new")
def new(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Show the new-case form."""
    _need(principal, "case.manage")
    scopes = principal.area_scopes("case.manage") or []
    values: dict[str, object] = {
        "classification": "confirmed",
        "area_code": present.scope_area(scopes[0]) if len(scopes) == 1 else ""}
    return _new_page(request, session, principal, values, {})


@router.post("/new")
def create(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
           form: Annotated[CaseForm, Form()]) -> Response:
    """Open the case and go to its page, or show the form again with what is wrong."""
    _need(principal, "case.manage")

    def save(data: CaseCreate) -> Response:
        case = case_service.create(session=session, rt=rt, actor=principal, data=data)
        return RedirectResponse(f"/cases/{case.id}", status_code=303)

    def again(f: forms.Failure) -> Response:
        return _new_page(request, session, principal, f.values, f.errors_or_message,
                         f.message, f.status)

    return forms.submit(session, form, save, again, messages={
        "onset_date": "Enter a date.", "sampling_date": "Enter a date.",
        "isolation_date": "Enter a date.", "window_start": "Enter a date.",
        "window_end": "Enter a date.", "area_code": N_("Choose an area."),
        "classification": N_("Choose a classification.")})


def _detail(request: Request, session: Session, principal: Principal, case_id: uuid.UUID,
            values: dict[str, object] | None = None, errors: dict[str, str] | None = None,
            message: str | None = None, status_code: int = 200) -> Response:
    case = case_service.read(session=session, actor=principal, case_id=case_id, via="page")
    view = present.to_read(session, case)
    found = timeline.read(session=session, actor=principal, case=case)
    history = present.events(session, case_service.history(session=session, actor=principal,
                                                           case_id=case.id))
    names = present.history_area_names(session, history)
    if values is None:
        values = {"version": view.version, "classification": view.classification,
                  "onset_date": view.onset_date or "", "sampling_date": view.sampling_date or "",
                  "isolation_date": view.isolation_date or "",
                  "window_start": view.window_first_day, "window_end": view.window_last_day,
                  "area_code": view.area_code, "source": view.source, "notes": view.notes}
    return render(request, "cases/detail.html", {
        "c": view, "rows": present.rows(found), "truncated": found.truncated,
        "chart": present.chart(case, found),
        "history": [(e, present.change_lines(e, names)) for e in history],
        "can_manage": authz.can_manage(principal, case), "values": values,
        "errors": errors or {}, "message": message, **_choices(session, principal)},
        status_code=status_code)


@router.get("/{case_id}")
def detail(request: Request, case_id: uuid.UUID, session: SessionDep,
           principal: CurrentPrincipal) -> Response:
    """Show a case: the person (masked), window, timeline, history, contacts."""
    _need(principal, "case.view")
    return _detail(request, session, principal, case_id)


@router.post("/{case_id}/edit")
def edit(request: Request, case_id: uuid.UUID, session: SessionDep,
         principal: CurrentPrincipal, form: Annotated[CaseEditForm, Form()]) -> Response:
    """Save an edit (409 with the message when someone else changed the case meanwhile)."""
    _need(principal, "case.manage")

    def save(data: CaseUpdate) -> Response:
        case_service.update_case(session=session, actor=principal, case_id=case_id, data=data)
        return RedirectResponse(f"/cases/{case_id}", status_code=303)

    def again(f: forms.Failure) -> Response:
        return _detail(request, session, principal, case_id, f.values, f.errors_or_message,
                       f.message, f.status)

    return forms.submit(session, form, save, again, messages={
        "onset_date": "Enter a date.", "sampling_date": "Enter a date.",
        "isolation_date": "Enter a date.", "window_start": "Enter a date.",
        "window_end": "Enter a date.", "version": N_("Reload the page and try again.")})


def _transition(request: Request, case_id: uuid.UUID, session: Session,
                principal: Principal, form: TransitionForm, action: str) -> Response:
    _need(principal, "case.manage")

    def save(data: CaseTransition) -> Response:
        if action == "close":
            case_service.close(session=session, actor=principal, case_id=case_id, data=data)
        else:
            case_service.reopen(session=session, actor=principal, case_id=case_id, data=data)
        return RedirectResponse(f"/cases/{case_id}", status_code=303)

    def again(f: forms.Failure) -> Response:
        # The version is a hidden field: name what to do rather than a field nobody sees.
        return _detail(request, session, principal, case_id, None, {}, f.first_error,
                       f.status)

    return forms.submit(session, form, save, again,
                        messages={"version": N_("Reload the page and try again.")})


@router.post("/{case_id}/close")
def close(request: Request, case_id: uuid.UUID, session: SessionDep,
          principal: CurrentPrincipal, form: Annotated[TransitionForm, Form()]) -> Response:
    """Close the case."""
    return _transition(request, case_id, session, principal, form, "close")


@router.post("/{case_id}/reopen")
def reopen(request: Request, case_id: uuid.UUID, session: SessionDep,
           principal: CurrentPrincipal, form: Annotated[TransitionForm, Form()]) -> Response:
    """Reopen the case."""
    return _transition(request, case_id, session, principal, form, "reopen")

