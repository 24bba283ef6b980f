"""Daily reports API: file, one-tap filing, read, dashboard, export, risky areas."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from passtrace.core.pagination import Page, paginate_items
from passtrace.core.validators import Day
from passtrace.reports import dashboard as dashboard_service
from passtrace.reports import present, risks
from passtrace.reports import service as report_service
from passtrace.reports.download import CREDIT, stream_export
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
