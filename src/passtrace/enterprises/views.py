"""Enterprises API: registration, departments, staff, invites, resumption, commute passes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from passtrace.accounts.schemas import ClaimCodeRead
from passtrace.core.imports import ImportReport, ImportResult, import_report
from passtrace.core.pagination import Page, paginate_items
from passtrace.enterprises import claim_codes, invites, present, resumption, staff_import
from passtrace.enterprises import service as enterprise_service
from passtrace.enterprises.schemas import (
    CommutePassReport,
    CommutePassRequest,
    DepartmentCreate,
    DepartmentRead,
    EmployeeCreate,
    EmployeePage,
    EmployeeRead,
    EnterpriseCreate,
    EnterpriseRead,
    InviteAccept,
    InviteRead,
    ResumptionCreate,
    ResumptionRead,
    ResumptionReturn,
)
from passtrace.web import imports
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.errors import error_response
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/enterprises", tags=["enterprises"])
StatusFilter = Annotated[str | None, Query(pattern="^(pending|approved|returned|withdrawn)$")]


@router.post("", response_model=EnterpriseRead, status_code=201)
def register(data: EnterpriseCreate, session: SessionDep,
             principal: CurrentPrincipal) -> EnterpriseRead:
    """Register an enterprise in your area (officials, administrators)."""
    e = enterprise_service.register(session=session, actor=principal, data=data)
    return present.enterprise(session, e)


@router.get("", response_model=Page[EnterpriseRead])
def list_enterprises(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                     limit: Limit = DEFAULT_LIMIT) -> Page[EnterpriseRead]:
    """List the enterprises you may see, by name."""
    rows, nxt = paginate_items(
        enterprise_service.list_visible(session=session, actor=principal, limit=5000),
        lambda e: (e.name, e.id), cursor=cursor, limit=limit)
    return Page(items=present.enterprises(session, rows), next=nxt)


@router.post("/invites/accept", response_model=EmployeeRead)
def accept_invite(request: Request, data: InviteAccept, session: SessionDep,
                  principal: CurrentPrincipal) -> EmployeeRead | Response:
    """Link your account to your employer's staff list with the invite token."""
    result = invites.accept_invite(session=session, actor=principal, token=data.token)
    if result.refused is not None:
        # Answered, not raised: the request commits and keeps the refused attempt's
        # audit entry (a raised error would roll it back).
        return error_response(request, result.refused)
    return present.employee(result.employee)


@router.get("/resumptions", response_model=Page[ResumptionRead])
def resumption_queue(session: SessionDep, principal: CurrentPrincipal,
                     status: StatusFilter = "pending", cursor: Cursor = None,
                     limit: Limit = DEFAULT_LIMIT) -> Page[ResumptionRead]:
    """List resumption applications in your area (pending ones by default), oldest first."""
    rows, nxt = paginate_items(
        resumption.review_queue(session=session, actor=principal, status=status, limit=5000),
        lambda row: (row[0].id,), cursor=cursor, limit=limit)
    return Page(items=present.resumptions(session, rows), next=nxt)


@router.get("/resumptions/{resumption_id}", response_model=ResumptionRead)
def read_resumption(resumption_id: uuid.UUID, session: SessionDep,
                    principal: CurrentPrincipal) -> ResumptionRead:
    """Show one application."""
    r, e = resumption.get_resumption(session=session, actor=principal,
                                     resumption_id=resumption_id)
    return present.resumption(session, r, e)


@router.post("/resumptions/{resumption_id}/approve", response_model=ResumptionRead)
def approve_resumption(resumption_id: uuid.UUID, session: SessionDep,
                       principal: CurrentPrincipal) -> ResumptionRead:
    """Approve an application (officials over the enterprise's area)."""
    r, e = resumption.approve_resumption(session=session, actor=principal,
                                         resumption_id=resumption_id)
    return present.resumption(session, r, e)


@router.post("/resumptions/{resumption_id}/return", response_model=ResumptionRead)
def return_resumption(resumption_id: uuid.UUID, data: ResumptionReturn, session: SessionDep,
                      principal: CurrentPrincipal) -> ResumptionRead:
    """Send an application back with reasons."""
    r, e = resumption.return_resumption(session=session, actor=principal,
                                        resumption_id=resumption_id, reasons=data.reasons)
    return present.resumption(session, r, e)


@router.post("/resumptions/{resumption_id}/withdraw", response_model=ResumptionRead)
def withdraw_resumption(resumption_id: uuid.UUID, session: SessionDep,
                        principal: CurrentPrincipal) -> ResumptionRead:
    """Withdraw your enterprise's pending application."""
    r, e = resumption.withdraw_resumption(session=session, actor=principal,
                                          resumption_id=resumption_id)
    return present.resumption(session, r, e)


@router.get("/{enterprise_id}", response_model=EnterpriseRead)
def read(enterprise_id: uuid.UUID, session: SessionDep,
         principal: CurrentPrincipal) -> EnterpriseRead:
    """Show an enterprise."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    return present.enterprise(session, e)


@router.get("/{enterprise_id}/departments", response_model=Page[DepartmentRead])
def list_departments(enterprise_id: uuid.UUID, session: SessionDep,
                     principal: CurrentPrincipal, cursor: Cursor = None,
                     limit: Limit = DEFAULT_LIMIT) -> Page[DepartmentRead]:
    """List the departments you may see, by name, with their active headcount."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    rows, nxt = paginate_items(
        enterprise_service.departments(session=session, actor=principal, e=e),
        lambda row: (row[0].name, row[0].id), cursor=cursor, limit=limit)
    return Page(items=[DepartmentRead(id=d.id, name=d.name, staff=n) for d, n in rows],
                next=nxt)


@router.post("/{enterprise_id}/departments", response_model=DepartmentRead, status_code=201)
def create_department(enterprise_id: uuid.UUID, data: DepartmentCreate, session: SessionDep,
                      principal: CurrentPrincipal) -> DepartmentRead:
    """Add a department."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    d = enterprise_service.create_department(session=session, actor=principal, e=e,
                                             name=data.name)
    return DepartmentRead(id=d.id, name=d.name, staff=0)


@router.patch("/{enterprise_id}/departments/{department_id}", response_model=DepartmentRead)
def rename_department(enterprise_id: uuid.UUID, department_id: uuid.UUID,
                      data: DepartmentCreate, session: SessionDep,
                      principal: CurrentPrincipal) -> DepartmentRead:
    """Rename a department."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    d = enterprise_service.rename_department(session=session, actor=principal, e=e,
                                             department_id=department_id, name=data.name)
    staff = dict((x.id, n) for x, n in enterprise_service.departments(
        session=session, actor=principal, e=e))
    return DepartmentRead(id=d.id, name=d.name, staff=staff.get(d.id, 0))


@router.delete("/{enterprise_id}/departments/{department_id}", status_code=204,
               response_class=Response)
def delete_department(enterprise_id: uuid.UUID, department_id: uuid.UUID,
                      session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete an empty department."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    enterprise_service.delete_department(session=session, actor=principal, e=e,
                                         department_id=department_id)
    return Response(status_code=204)


@router.get("/{enterprise_id}/employees", response_model=EmployeePage)
def list_employees(
    enterprise_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
    department: uuid.UUID | None = None,
    status: Annotated[str | None, Query(pattern="^(active|left)$")] = "active",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> EmployeePage:
    """List staff, masked (department heads: their department only)."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    rows, nxt = enterprise_service.list_employees(session=session, actor=principal, e=e,
                                                  department_id=department, status=status,
                                                  cursor=cursor, limit=limit)
    # Each employee on this page (and only they) sees the read in their access log.
    enterprise_service.record_staff_views(session=session, actor=principal, rows=rows,
                                          via="api")
    return EmployeePage(items=[present.employee(emp) for emp in rows], next=nxt)


@router.post("/{enterprise_id}/employees", response_model=EmployeeRead, status_code=201)
def add_employee(enterprise_id: uuid.UUID, data: EmployeeCreate, session: SessionDep,
                 rt: RuntimeDep, principal: CurrentPrincipal) -> EmployeeRead:
    """Add one employee."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    emp = enterprise_service.add_employee(session=session, rt=rt, actor=principal, e=e,
                                          data=data)
    return present.employee(emp)


@router.post("/{enterprise_id}/employees/import", response_model=ImportReport)
async def import_employees(
    enterprise_id: uuid.UUID, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="Staff list (.xlsx or CSV)")],
    partial: Annotated[bool, Form(description="Import the valid rows even if some are "
                                              "refused")] = False,
) -> ImportReport:
    """Import a staff list; nothing is imported if a row is refused, unless partial."""
    # The database work runs in the threadpool, never on the event loop: a writer
    # may wait there for SQLite's write lock (core/sqlite_writes).
    data = await imports.upload(file)

    def work() -> ImportResult:
        e = enterprise_service.get_visible(session=session, actor=principal,
                                           enterprise_id=enterprise_id)
        return staff_import.import_staff(session=session, rt=rt, actor=principal, e=e,
                                         data=data, filename=file.filename or "",
                                         partial=partial)

    return import_report(await run_in_threadpool(work))


@router.get("/{enterprise_id}/employees/{employee_id}", response_model=EmployeeRead)
def read_employee(enterprise_id: uuid.UUID, employee_id: uuid.UUID, session: SessionDep,
                  principal: CurrentPrincipal) -> EmployeeRead:
    """Show one employee, masked."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    emp = enterprise_service.get_employee(session=session, actor=principal, e=e,
                                          employee_id=employee_id)
    enterprise_service.record_staff_views(session=session, actor=principal, rows=[emp],
                                          via="api_detail")
    return present.employee(emp)


@router.post("/{enterprise_id}/employees/{employee_id}/leave", response_model=EmployeeRead)
def employee_left(enterprise_id: uuid.UUID, employee_id: uuid.UUID, session: SessionDep,
                  principal: CurrentPrincipal) -> EmployeeRead:
    """Record that an employee left."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    return present.employee(enterprise_service.mark_left(
        session=session, actor=principal, e=e, employee_id=employee_id))


@router.post("/{enterprise_id}/employees/{employee_id}/invite", response_model=InviteRead,
             status_code=201)
def invite(enterprise_id: uuid.UUID, employee_id: uuid.UUID, session: SessionDep,
           principal: CurrentPrincipal) -> InviteRead:
    """Make an invite link for an employee; the token is shown only in this answer."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    emp, token = invites.create_invite(session=session, actor=principal, e=e,
                                       employee_id=employee_id)
    assert emp.invite_expires_at is not None
    return InviteRead(employee_id=emp.id, token=token, url=f"/enterprises/invite/{token}",
                      expires_at=emp.invite_expires_at)


@router.get("/{enterprise_id}/resumptions", response_model=Page[ResumptionRead])
def list_resumptions(enterprise_id: uuid.UUID, session: SessionDep,
                     principal: CurrentPrincipal, cursor: Cursor = None,
                     limit: Limit = DEFAULT_LIMIT) -> Page[ResumptionRead]:
    """List the enterprise's resumption applications, newest first."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    rows, nxt = paginate_items(
        resumption.resumptions_of(session=session, actor=principal, e=e, limit=5000),
        lambda r: (r.id,), cursor=cursor, limit=limit, descending=True)
    return Page(items=present.resumptions(session, [(r, e) for r in rows]), next=nxt)


@router.post("/{enterprise_id}/resumptions", response_model=ResumptionRead, status_code=201)
def apply_resumption(enterprise_id: uuid.UUID, data: ResumptionCreate, session: SessionDep,
                     rt: RuntimeDep, principal: CurrentPrincipal) -> ResumptionRead:
    """Apply to resume work."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    r = resumption.apply_resumption(session=session, rt=rt, actor=principal, e=e,
                                    data=data)
    return present.resumption(session, r, e)


@router.post("/{enterprise_id}/commute-passes", response_model=CommutePassReport,
             status_code=201)
def commute_passes(enterprise_id: uuid.UUID, data: CommutePassRequest, session: SessionDep,
                   rt: RuntimeDep, principal: CurrentPrincipal) -> CommutePassReport:
    """Issue commute passes for returning staff (after an approved resumption)."""
    e = enterprise_service.get_visible(session=session, actor=principal,
                                       enterprise_id=enterprise_id)
    result = resumption.request_commute_passes(
        session=session, rt=rt, actor=principal, e=e, employee_ids=data.employee_ids,
        valid_from=data.valid_from, valid_until=data.valid_until)
    return CommutePassReport(created=len(result.created), skipped=result.skipped,
                             pass_ids=[p.id for p in result.created], problems=[])


@router.post("/{enterprise_id}/employees/{employee_id}/claim-code",
             response_model=ClaimCodeRead, status_code=201)
def employee_claim_code(enterprise_id: uuid.UUID, employee_id: uuid.UUID, session: SessionDep,
                        rt: RuntimeDep, principal: CurrentPrincipal) -> ClaimCodeRead:
    """Give a current employee a claim code in person (shown once; 7 days; one use)."""
    raw, expires = claim_codes.issue_for_employee(session=session, rt=rt, actor=principal,
                                                  enterprise_id=enterprise_id,
                                                  employee_id=employee_id)
    return ClaimCodeRead(code=raw, expires_at=expires)
