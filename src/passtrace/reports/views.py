"""Daily reports API: file, one-tap filing, read, dashboard, export, risky areas."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from passtrace.audit import service as audit_service
from passtrace.core.export import csv_batched_chunks, xlsx_chunks
from passtrace.core.pagination import Page, paginate_items
from passtrace.reports import dashboard as dashboard_service
from passtrace.reports import export as export_service
from passtrace.reports import present, risks
from passtrace.reports import service as report_service
from passtrace.reports.schemas import (
    AreaRiskIn,
    AreaRiskRead,
    Dashboard,
    QuickIn,
    ReportIn,
    ReportPage,
    ReportRead,
)
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import errors, files
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/reports", tags=["reports"])
risk_router = APIRouter(prefix="/area-risks", tags=["reports"])
CREDIT = r"^[0-9A-Z]{18}$"


@router.post("", response_model=ReportRead, status_code=201)
def submit(data: ReportIn, response: Response, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> ReportRead:
    """File today's (or a recent day's) report; filing again for the date amends it."""
    report, created = report_service.submit(session=session, rt=rt, actor=principal, data=data)
    if not created:
        response.status_code = 200
    return present.to_read(session, report)


@router.post("/quick", response_model=ReportRead, status_code=201)
def quick(data: QuickIn, response: Response, session: SessionDep, rt: RuntimeDep,
          principal: CurrentPrincipal) -> ReportRead:
    """One tap: same places as the day before, or stayed home all day."""
    report, created = report_service.quick(session=session, rt=rt, actor=principal, data=data)
    if not created:
        response.status_code = 200
    return present.to_read(session, report)


@router.get("/mine", response_model=ReportPage)
def mine(session: SessionDep, principal: CurrentPrincipal,
         days: Annotated[int, Query(ge=1, le=60)] = 14) -> ReportPage:
    """List my own recent reports."""
    rows = report_service.list_mine(session=session, actor=principal, days=days)
    return ReportPage(items=[present.to_read(session, r) for r in rows])


@router.get("/dashboard", response_model=Dashboard, responses=errors(404))
def dashboard(session: SessionDep, principal: CurrentPrincipal,
              enterprise: Annotated[str, Query(pattern=CREDIT)],
              department: uuid.UUID | None = None, day: date | None = None) -> Dashboard:
    """Submission rates, overdue people (masked), anomalies and the 14-day trend."""
    return dashboard_service.build(session=session, actor=principal, enterprise_code=enterprise,
                                   department_id=department, day=day)


@router.get("/export", response_class=StreamingResponse, responses={**files(
    "The reports as a spreadsheet.", "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), **errors(404)})
def export(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
           enterprise: Annotated[str, Query(pattern=CREDIT)],
           start: Annotated[date, Query(alias="from")],
           end: Annotated[date, Query(alias="to")],
           format: Literal["csv", "xlsx"] = "csv",
           department: uuid.UUID | None = None) -> StreamingResponse:
    """Download reports with their stops as CSV or Excel (streamed)."""
    return stream_export(session=session, rt=rt, principal=principal, enterprise=enterprise,
                         start=start, end=end, fmt=format, department=department)


def stream_export(*, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
                  enterprise: str, start: date, end: date, fmt: str,
                  department: uuid.UUID | None) -> StreamingResponse:
    """Authorize, audit once, then stream rows from a session of the response's own."""
    ent, allowed = dashboard_service.scope(session=session, actor=principal,
                                           enterprise_code=enterprise, department_id=department,
                                           permission="report.export")
    export_service.check_range(start, end)
    audit_service.record(session=session, actor=principal, action="report.export",
                         resource_type="enterprise", resource_id=ent.id,
                         detail={"from": start.isoformat(), "to": end.isoformat(),
                                 "format": fmt, "departments": sorted(str(d) for d in allowed)
                                 if allowed is not None else "all"})
    header = export_service.header()
    ent_id = ent.id

    def body() -> object:
        own = rt.sessions()
        try:
            target = own.get(type(ent), ent_id)
            assert target is not None
            batches = export_service.batches(session=own, enterprise=target, start=start,
                                             end=end, departments=allowed)
            if fmt == "xlsx":
                rows = (row for batch in batches for row in batch)
                yield from xlsx_chunks(header, rows, title=f"{start}_{end}")
            else:
                yield from csv_batched_chunks(header, batches)
        finally:
            own.close()

    name = f"reports-{ent.credit_code}-{start}-{end}.{fmt}"
    media = ("text/csv; charset=utf-8" if fmt == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return StreamingResponse(body(), media_type=media,  # type: ignore[arg-type]
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/{report_id}", response_model=ReportRead)
def read(report_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> ReportRead:
    """Show one report (its filer, their department head or enterprise admin)."""
    report = report_service.visible_report(session=session, actor=principal,
                                           report_id=report_id)
    return present.to_read(session, report)


def _risk_read(r: object) -> AreaRiskRead:
    return AreaRiskRead.model_validate(r, from_attributes=True)


@risk_router.get("", response_model=Page[AreaRiskRead])
def list_risks(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
               limit: Limit = DEFAULT_LIMIT) -> Page[AreaRiskRead]:
    """List the areas marked risky now, by area code."""
    rows, nxt = paginate_items(risks.active(session=session), lambda r: (r.area_code, r.id),
                               cursor=cursor, limit=limit)
    return Page(items=[_risk_read(r) for r in rows], next=nxt)


@risk_router.post("", response_model=AreaRiskRead, status_code=201)
def create_risk(data: AreaRiskIn, session: SessionDep,
                principal: CurrentPrincipal) -> AreaRiskRead:
    """Mark an area risky (officials responsible for it)."""
    return _risk_read(risks.create(session=session, actor=principal, data=data))


@risk_router.post("/{risk_id}/end", response_model=AreaRiskRead)
def end_risk(risk_id: uuid.UUID, session: SessionDep,
             principal: CurrentPrincipal) -> AreaRiskRead:
    """Lift a risk now."""
    return _risk_read(risks.end(session=session, actor=principal, risk_id=risk_id))
