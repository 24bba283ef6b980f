"""Daily reports API: file, one-tap filing, read, dashboard, export, risky areas."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from passtrace.core.validators import Day
from passtrace.reports import dashboard as dashboard_service
from passtrace.reports import present
from passtrace.reports import service as report_service
from passtrace.reports.download import CREDIT, stream_export
from passtrace.reports.schemas import (
    Dashboard,
    QuickIn,
    ReportIn,
    ReportPage,
    ReportRead,
)
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import errors, files

router = APIRouter(prefix="/reports", tags=["reports"])


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
              department: uuid.UUID | None = None, day: Day | None = None) -> Dashboard:
    """Submission rates, overdue people (masked), anomalies and the 14-day trend."""
    return dashboard_service.build(session=session, actor=principal, enterprise_code=enterprise,
                                   department_id=department, day=day)


@router.get("/export", response_class=StreamingResponse, responses={**files(
    "The reports as a spreadsheet.", "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), **errors(404)})
def export(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
           enterprise: Annotated[str, Query(pattern=CREDIT)],
           start: Annotated[Day, Query(alias="from")],
           end: Annotated[Day, Query(alias="to")],
           format: Literal["csv", "xlsx"] = "csv",
           department: uuid.UUID | None = None) -> StreamingResponse:
    """Download reports with their stops as CSV or Excel (streamed)."""
    return stream_export(session=session, rt=rt, principal=principal, enterprise=enterprise,
                         start=start, end=end, fmt=format, department=department)


@router.get("/{report_id}", response_model=ReportRead)
def read(report_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> ReportRead:
    """Show one report (its filer, their department head or enterprise admin)."""
    report = report_service.visible_report(session=session, actor=principal,
                                           report_id=report_id)
    return present.to_read(session, report)
