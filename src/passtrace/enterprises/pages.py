"""Enterprise pages: HR home (staff, import, invites, resumption, commute passes),
official pages (register an enterprise, resumption queue), and the invite link."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.core.clock import LOCAL_TZ, local_today, utcnow
from passtrace.core.errors import Forbidden, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.enterprises import (
    authz,
    invites,
    present,
    resumption,
    staff_import,
    staff_search,
)
from passtrace.enterprises import service as enterprise_service
from passtrace.enterprises.forms import (
    CommuteForm,
    DepartmentForm,
    EmployeeForm,
    EnterpriseForm,
    ResumptionForm,
    ReturnForm,
)
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.enterprises.schemas import (
    CommutePassRequest,
    EmployeeCreate,
    EnterpriseCreate,
    ResumptionCreate,
)
from passtrace.passes.present import area_choices
from passtrace.web import forms, imports
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import LOCAL_INPUT, render

router = APIRouter(prefix="/enterprises", include_in_schema=False)
# A phone shows ~12 compact rows a screen: 50 is four screens, then "next page".
STAFF_PAGE = 50
EMPLOYEE_MESSAGES = {"department_id": N_("Choose the department.")}


def _error_page(request: Request, back: str) -> forms.Page:
    """Refused buttons (approve, leave, ...) show the message with a way back."""
    return lambda f: render(request, "error.html", {
        "status": f.status, "message": next(iter(f.errors.values()), None) or f.message,
        "back": back}, status_code=f.status)


def _ctx(session: Session, principal: CurrentPrincipal, e: Enterprise) -> dict[str, Any]:
    return {"e": present.enterprise(session, e), "can_manage": authz.can_manage(principal, e),
            "sees_all": authz.sees_all_staff(principal, e),
            "verify_tolerance": e.verify_tolerance_minutes}


# --- index, registration, resumption queue (static paths first) ----------------------------

@router.get("")
def index(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """List my enterprises; an HR admin with one enterprise goes straight to it."""
    rows = enterprise_service.list_visible(session=session, actor=principal)
    is_official = principal.has("enterprise.register")
    if len(rows) == 1 and not is_official:
        return RedirectResponse(f"/enterprises/{rows[0].id}", status_code=303)
    pending = (resumption.count_pending(session=session, actor=principal)
               if principal.has("resumption.review") else 0)
    return render(request, "enterprises/index.html", {
        "items": present.enterprises(session, rows),
        "can_register": is_official, "can_review": principal.has("resumption.review"),
        "pending": pending})


def _register_form(request: Request, session: Session, values: dict[str, Any],
                   errors: dict[str, str], status_code: int = 200,
                   message: str | None = None) -> Response:
    return render(request, "enterprises/new.html", {
        "values": values, "errors": errors, "message": message,
        "area_choices": area_choices(session)}, status_code=status_code)


@router.get("/new")
def register_form(request: Request, session: SessionDep,
                  principal: CurrentPrincipal) -> Response:
    """Show the registration form (officials)."""
    if not principal.has("enterprise.register"):
        raise Forbidden("Your role does not allow this.")
    return _register_form(request, session, {"report_deadline": "10:00"}, {})


@router.post("/new")
def register(request: Request, session: SessionDep, principal: CurrentPrincipal,
             form: Annotated[EnterpriseForm, Form()]) -> Response:
    """Register an enterprise, or show the form again with messages."""
    def save(data: EnterpriseCreate) -> Response:
        e = enterprise_service.register(session=session, actor=principal, data=data)
        return RedirectResponse(f"/enterprises/{e.id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _register_form(
        request, session, f.values, f.errors, f.status, f.message))


@router.get("/resumptions")
def queue(request: Request, session: SessionDep, principal: CurrentPrincipal,
          status: str = "pending") -> Response:
    """Show the resumption applications in my area."""
    if status not in ("pending", "approved", "returned", "withdrawn"):
        status = "pending"
    rows = resumption.review_queue(session=session, actor=principal, status=status)
    return render(request, "enterprises/queue.html", {
        "items": present.resumptions(session, rows), "status": status})


@router.post("/resumptions/{resumption_id}/approve")
def approve(request: Request, resumption_id: uuid.UUID, session: SessionDep,
            principal: CurrentPrincipal) -> Response:
    """Approve from the queue."""
    def change() -> Response:
        resumption.approve_resumption(session=session, actor=principal,
                                      resumption_id=resumption_id)
        return RedirectResponse("/enterprises/resumptions", status_code=303)

    return forms.attempt(session, change, _error_page(request, "/enterprises/resumptions"))


@router.post("/resumptions/{resumption_id}/return")
def send_back(request: Request, resumption_id: uuid.UUID, session: SessionDep,
              principal: CurrentPrincipal, form: Annotated[ReturnForm, Form()]) -> Response:
    """Return with reasons, one per line."""
    def change() -> Response:
        resumption.return_resumption(session=session, actor=principal,
                                     resumption_id=resumption_id, reasons=form.lines())
        return RedirectResponse("/enterprises/resumptions", status_code=303)

    return forms.attempt(session, change, _error_page(request, "/enterprises/resumptions"))


@router.get("/invite/{token}")
def invite_form(request: Request, token: str, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """Show whose staff list the invite joins, and the button to accept."""
    def shown() -> Response:
        emp = invites.find_invite(session=session, token=token[:100])
        e = session.get(Enterprise, emp.enterprise_id)
        return render(request, "enterprises/invite.html", {"enterprise": e, "token": token,
                                                           "linked": principal.person_id})

    return forms.attempt(session, shown, _error_page(request, "/"))


@router.post("/invite/{token}")
def invite_accept(request: Request, token: str, session: SessionDep,
                  principal: CurrentPrincipal) -> Response:
    """Link my account to the employee record."""
    def accept() -> Response:
        result = invites.accept_invite(session=session, actor=principal, token=token[:100])
        if result.refused is not None:
            # Answered, not raised: the request commits the refused attempt's audit entry.
            return _error_page(request, "/")(forms.Failure.of(result.refused))
        e = session.get(Enterprise, result.employee.enterprise_id)
        return render(request, "enterprises/invite.html", {"enterprise": e, "accepted": True})

    return forms.attempt(session, accept, _error_page(request, "/"))


# --- one enterprise -------------------------------------------------------------------------

@router.get("/{enterprise_id}")
def home(request: Request, enterprise_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
         principal: CurrentPrincipal, department: str = "", status: str = "active",
         q: str = "", cursor: str = "") -> Response:
    """The enterprise home: facts, departments and the staff list (search, filters, pages)."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    depts = enterprise_service.departments(session=session, actor=principal, e=e)
    message = None
    try:
        f = staff_search.parse(department, status, q)
    except ValidationFailed as exc:
        f, message = staff_search.parse(department, status, ""), exc.translated()
    where = staff_search.conditions(session=session, vault=rt.vault, actor=principal, e=e,
                                    q=f.q)
    rows, nxt = enterprise_service.list_employees(
        session=session, actor=principal, e=e, department_id=f.department_id,
        status=None if f.status == "all" else f.status, where=where,
        cursor=cursor[:64] or None, limit=STAFF_PAGE)
    enterprise_service.record_staff_views(session=session, actor=principal, rows=rows,
                                          via="staff_list")
    latest_read = None
    if authz.sees_all_staff(principal, e):
        latest = resumption.resumptions_of(session=session, actor=principal, e=e, limit=1)
        latest_read = present.resumption(session, latest[0], e) if latest else None
    keep = {k: v for k, v in {"department": str(f.department_id or ""), "q": f.q,
                              "status": "" if f.status == "active" else f.status}.items() if v}
    base = f"/enterprises/{e.id}"
    return render(request, "enterprises/home.html", {
        **_ctx(session, principal, e), "departments": depts,
        "department": str(f.department_id or ""), "filter": f, "message": message,
        "staff": [present.employee(emp, rt.vault if authz.employs(principal, e, emp) else None)
                  for emp in rows],
        "next_url": f"{base}?{urlencode({**keep, 'cursor': nxt})}" if nxt else None,
        "first_url": f"{base}?{urlencode(keep)}" if cursor else None,
        "total": sum(n for _, n in depts), "resumption": latest_read})


@router.post("/{enterprise_id}/departments")
def add_department(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                   principal: CurrentPrincipal,
                   form: Annotated[DepartmentForm, Form()]) -> Response:
    """Add a department from the home page."""
    back = f"/enterprises/{enterprise_id}"

    def change() -> Response:
        e = enterprise_service.get_visible(session=session, actor=principal,
                                           enterprise_id=enterprise_id)
        enterprise_service.create_department(session=session, actor=principal, e=e,
                                             name=form.name)
        return RedirectResponse(back, status_code=303)

    return forms.attempt(session, change, _error_page(request, back))


def _employee_form(request: Request, session: Session, principal: CurrentPrincipal,
                   e: Enterprise, values: dict[str, Any], errors: dict[str, str],
                   status_code: int = 200, message: str | None = None) -> Response:
    depts = enterprise_service.departments(session=session, actor=principal, e=e)
    return render(request, "enterprises/employee_new.html", {
        **_ctx(session, principal, e), "departments": depts, "values": values,
        "errors": errors, "message": message}, status_code=status_code)


@router.get("/{enterprise_id}/employees/new")
def employee_form(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                  principal: CurrentPrincipal) -> Response:
    """Show the form to add one employee."""
    e = enterprise_service.get_managed(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    return _employee_form(request, session, principal, e, {}, {})


@router.post("/{enterprise_id}/employees/new")
def employee_add(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                 rt: RuntimeDep, principal: CurrentPrincipal,
                 form: Annotated[EmployeeForm, Form()]) -> Response:
    """Add one employee, or show the form again with messages."""
    e = enterprise_service.get_managed(session=session, actor=principal,
                                       enterprise_id=enterprise_id)

    def save(data: EmployeeCreate) -> Response:
        emp = enterprise_service.add_employee(session=session, rt=rt, actor=principal, e=e,
                                              data=data)
        return RedirectResponse(f"/enterprises/{e.id}/employees/{emp.id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _employee_form(
        request, session, principal, e, f.values, f.errors, f.status, f.message),
        messages=EMPLOYEE_MESSAGES)


@router.get("/{enterprise_id}/import")
def import_form(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """Show the staff-list upload form."""
    e = enterprise_service.get_managed(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    return render(request, "enterprises/import.html", {**_ctx(session, principal, e),
                                                       "report": None})


@router.post("/{enterprise_id}/import")
async def import_upload(
    request: Request, enterprise_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
    principal: CurrentPrincipal, form: Annotated[imports.ImportForm, Form()],
) -> Response:
    """Import the uploaded list and show the row-by-row report."""
    # The database work runs in the threadpool, never on the event loop: a writer
    # may wait there for SQLite's write lock (core/sqlite_writes).
    data = await imports.upload(form.file)
    return await run_in_threadpool(_import, request, enterprise_id, session, rt, principal,
                                   form, data)


def _import(request: Request, enterprise_id: uuid.UUID, session: Session, rt: Runtime,
            principal: Principal, form: imports.ImportForm, data: bytes) -> Response:
    e = enterprise_service.get_managed(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    ctx = {**_ctx(session, principal, e), "partial": form.valid_rows, "report": None}

    def imported() -> Response:
        result = staff_import.import_staff(session=session, rt=rt, actor=principal, e=e,
                                           data=data, filename=form.filename,
                                           partial=form.valid_rows)
        return render(request, "enterprises/import.html", {
            **ctx, **imports.report_context(result, present.COLUMN_LABELS)},
            status_code=imports.status(result))

    return forms.attempt(session, imported, lambda f: render(
        request, "enterprises/import.html", {**ctx, "message": f.message},
        status_code=f.status))


@router.get("/{enterprise_id}/employees/{employee_id}")
def employee_detail(request: Request, enterprise_id: uuid.UUID, employee_id: uuid.UUID,
                    session: SessionDep, principal: CurrentPrincipal) -> Response:
    """One employee: masked details, invite link, reveal, left."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    emp = enterprise_service.get_employee(session=session, actor=principal, e=e,
                                          employee_id=employee_id)
    enterprise_service.record_staff_views(session=session, actor=principal, rows=[emp],
                                          via="employee_page")
    return _employee_page(request, session, principal, e, emp, invite=None)


def _employee_page(request: Request, session: Session, principal: Principal, e: Enterprise,
                   emp: Employee, *, invite: str | None) -> Response:
    return render(request, "enterprises/employee.html", {
        **_ctx(session, principal, e), "emp": present.employee(emp),
        "can_reveal": authz.can_reveal_staff(principal, e), "invite": invite})


@router.post("/{enterprise_id}/employees/{employee_id}/invite")
def employee_invite(request: Request, enterprise_id: uuid.UUID, employee_id: uuid.UUID,
                    session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Make an invite link and show it this once."""
    def made() -> Response:
        e = enterprise_service.get_visible(session=session, actor=principal,
                                           enterprise_id=enterprise_id)
        emp, token = invites.create_invite(session=session, actor=principal, e=e,
                                           employee_id=employee_id)
        url = str(request.base_url).rstrip("/") + f"/enterprises/invite/{token}"
        return _employee_page(request, session, principal, e, emp, invite=url)

    return forms.attempt(session, made, _error_page(
        request, f"/enterprises/{enterprise_id}/employees/{employee_id}"))


@router.post("/{enterprise_id}/employees/{employee_id}/leave")
def employee_leave(request: Request, enterprise_id: uuid.UUID, employee_id: uuid.UUID,
                   session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Record that the employee left."""
    back = f"/enterprises/{enterprise_id}"

    def change() -> Response:
        e = enterprise_service.get_visible(session=session, actor=principal,
                                           enterprise_id=enterprise_id)
        enterprise_service.mark_left(session=session, actor=principal, e=e,
                                     employee_id=employee_id)
        return RedirectResponse(back, status_code=303)

    return forms.attempt(session, change, _error_page(request, back))


def _resumption_page(request: Request, session: Session, principal: CurrentPrincipal,
                     e: Enterprise, values: dict[str, Any], errors: dict[str, str],
                     status_code: int = 200, message: str | None = None) -> Response:
    history = present.resumptions(session, [(r, e) for r in resumption.resumptions_of(
        session=session, actor=principal, e=e)])
    depts = enterprise_service.departments(session=session, actor=principal, e=e)
    return render(request, "enterprises/resumption.html", {
        **_ctx(session, principal, e), "history": history, "departments": depts,
        "values": values, "errors": errors, "message": message,
        "has_pending": any(r.status == "pending" for r in history)},
        status_code=status_code)


@router.get("/{enterprise_id}/resumption")
def resumption_form(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                    principal: CurrentPrincipal) -> Response:
    """The enterprise's applications and the form for a new one."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    planned = (local_today() + timedelta(days=1)).isoformat()
    return _resumption_page(request, session, principal, e, {"planned_date": planned}, {})


@router.post("/{enterprise_id}/resumption")
def resumption_apply(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                     rt: RuntimeDep, principal: CurrentPrincipal,
                     form: Annotated[ResumptionForm, Form()]) -> Response:
    """Apply; headcount fields are named headcount-<department id>."""
    e = enterprise_service.get_managed(session=session, actor=principal,
                                       enterprise_id=enterprise_id)

    def save(data: ResumptionCreate) -> Response:
        resumption.apply_resumption(session=session, rt=rt, actor=principal, e=e, data=data)
        return RedirectResponse(f"/enterprises/{e.id}/resumption", status_code=303)

    return forms.submit(session, form, save, lambda f: _resumption_page(
        request, session, principal, e, f.values, f.errors, f.status, f.message))


def _commute_page(request: Request, session: Session, principal: CurrentPrincipal,
                  e: Enterprise, values: dict[str, Any], errors: dict[str, str],
                  status_code: int = 200, message: str | None = None,
                  result: Any = None) -> Response:
    r = resumption.approved_resumption(session=session, e=e)
    rows, _ = enterprise_service.list_employees(session=session, actor=principal, e=e,
                                                limit=2000)
    enterprise_service.record_staff_views(session=session, actor=principal, rows=rows,
                                          via="commute_form")
    return render(request, "enterprises/commute.html", {
        **_ctx(session, principal, e), "approved": present.resumption(session, r, e) if r
        else None, "staff": [present.employee(emp) for emp in rows], "values": values,
        "errors": errors, "message": message, "result": result}, status_code=status_code)


def _default_window(planned: date | None) -> dict[str, Any]:
    # The shared clock (not datetime.now): a held clock in tests reaches the defaults too.
    now = utcnow().astimezone(LOCAL_TZ)
    start = now.replace(minute=0, second=0, microsecond=0)
    if planned is not None and planned > now.date():
        start = datetime.combine(planned, datetime.min.time(), tzinfo=LOCAL_TZ).replace(hour=6)
    return {"valid_from": start.strftime(LOCAL_INPUT),
            "valid_until": (start + timedelta(days=14)).strftime(LOCAL_INPUT), "chosen": []}


@router.get("/{enterprise_id}/commute-passes")
def commute_form(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                 principal: CurrentPrincipal) -> Response:
    """Choose returning staff and a validity window."""
    e = enterprise_service.get_managed(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    r = resumption.approved_resumption(session=session, e=e)
    return _commute_page(request, session, principal, e,
                         _default_window(r.planned_date if r else None), {})


COMMUTE_MESSAGES = {"employee_ids.too_short": N_("Choose at least one person."),
                    "employee_ids": N_("Choose the people from the list.")}


@router.post("/{enterprise_id}/commute-passes")
def commute_request(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                    rt: RuntimeDep, principal: CurrentPrincipal,
                    form: Annotated[CommuteForm, Form()]) -> Response:
    """Issue the passes and show how many."""
    e = enterprise_service.get_managed(session=session, actor=principal,
                                       enterprise_id=enterprise_id)

    def save(data: CommutePassRequest) -> Response:
        result = resumption.request_commute_passes(
            session=session, rt=rt, actor=principal, e=e, employee_ids=data.employee_ids,
            valid_from=data.valid_from, valid_until=data.valid_until)
        return _commute_page(request, session, principal, e, _default_window(None), {},
                             result={"created": len(result.created),
                                     "skipped": result.skipped})

    return forms.submit(session, form, save, lambda f: _commute_page(
        request, session, principal, e, {**f.values, "chosen": form.employee_ids[:2000]},
        f.errors, f.status, f.message), messages=COMMUTE_MESSAGES)
