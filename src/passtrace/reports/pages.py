"""Report pages: today's report (one tap or the full form), the supervisor dashboard."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.areas import risks as area_risks
from passtrace.areas import service as area_service
from passtrace.areas.models import Area
from passtrace.core.clock import LOCAL_TZ, local_today, utcnow
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import get_locale, gettext
from passtrace.core.ids import uuid7
from passtrace.core.validators import Day
from passtrace.enterprises.models import Department, Employee
from passtrace.reports import dashboard as dashboard_service
from passtrace.reports import present, recents
from passtrace.reports import service as report_service
from passtrace.reports.download import CREDIT, stream_export
from passtrace.reports.forms import QuickForm, ReportForm, blank_stop
from passtrace.reports.schemas import QuickIn, ReportIn
from passtrace.web import charts, forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep

router = APIRouter(prefix="/reports", include_in_schema=False)
EMPTY_ROWS = 3


def area_choices(session: Session) -> list[tuple[str, str]]:
    """The division tree as indented options (provinces, then Guizhou down to communities)."""
    zh = get_locale() == "zh_CN"
    depth = {"province": 0, "city": 1, "district": 2, "street": 3, "community": 4}
    return [(a.code, "\u3000" * depth.get(a.level, 0) + (a.name_zh if zh else a.name_en))
            for a in session.scalars(select(Area).order_by(Area.code))]


def _hhmm(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%H:%M") if value else ""


def _today_context(session: Session, principal: CurrentPrincipal,
                   values: dict[str, Any] | None = None,
                   errors: dict[str, str] | None = None) -> dict[str, Any]:
    today = local_today()
    emp = report_service.employee_of(session=session, actor=principal)
    current = report_service.get_report(session=session, employee_id=emp.id, day=today)
    yesterday = report_service.get_report(session=session, employee_id=emp.id,
                                          day=today - timedelta(days=1))
    if values is None:
        source = current or yesterday
        stops = [{"area": s.area_code, "place": s.place, "arrive": _hhmm(s.arrive_at),
                  "depart": _hhmm(s.depart_at), "mode": s.mode or "", "ref": s.ref or "",
                  "seat": s.seat or ""} for s in (current.stops if current else [])]
        values = {"report_date": today.isoformat(), "request_id": str(uuid7()),
                  "temperature": f"{source.temperature:.1f}" if source else "",
                  "symptoms": list(current.symptoms) if current else [],
                  "stayed_home": bool(current and current.stayed_home),
                  "stops": stops + [blank_stop() for _ in range(max(1, EMPTY_ROWS - len(stops)))]}
    return {
        "today": today, "current": present.to_read(session, current) if current else None,
        "yesterday": yesterday, "values": values, "errors": errors or {},
        "area_choices": area_choices(session), "modes": list(present.MODE_LABELS.items()),
        "symptoms": list(present.SYMPTOM_LABELS.items()),
        "mode_labels": present.MODE_LABELS,
        "recent": recents.recent_stops(session=session, employee_id=emp.id),
        # What "same as yesterday" would file, shown before it is filed.
        "yesterday_read": present.to_read(session, yesterday) if yesterday else None,
    }


@router.get("/today")
def today_page(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Today's report: one tap when nothing changed, the full form otherwise."""
    return _render_today(request, session, principal)


def _render_today(request: Request, session: Session, principal: CurrentPrincipal,
                  values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  message: str | None = None, status_code: int = 200,
                  saved: bool = False) -> Response:
    from passtrace.web.render import render

    ctx = _today_context(session, principal, values, errors)
    ctx.update({"message": message, "saved": saved})
    return render(request, "reports/today.html", ctx, status_code=status_code)


@router.post("/today")
def file_form(request: Request, session: SessionDep, rt: RuntimeDep,
              principal: CurrentPrincipal, form: Annotated[ReportForm, Form()]) -> Response:
    """Validate and store the full form; re-show it with messages on a mistake."""
    def save(data: ReportIn) -> Response:
        report_service.submit(session=session, rt=rt, actor=principal, data=data)
        return RedirectResponse("/reports/today?saved=1", status_code=303)

    return forms.submit(session, form, save, lambda f: _render_today(
        request, session, principal, form.page_values(), f.errors_or_message,
        message=f.message, status_code=f.status))


@router.post("/today/quick")
def file_quick(request: Request, session: SessionDep, rt: RuntimeDep,
               principal: CurrentPrincipal, form: Annotated[QuickForm, Form()]) -> Response:
    """One tap: same as yesterday, or stayed home."""
    def save(data: QuickIn) -> Response:
        report_service.quick(session=session, rt=rt, actor=principal, data=data)
        return RedirectResponse("/reports/today?saved=1", status_code=303)

    return forms.submit(session, form, save, lambda f: _render_today(
        request, session, principal, None, f.errors, message=f.message,
        status_code=f.status))


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


@router.get("/dashboard")
def dashboard_page(request: Request, session: SessionDep, principal: CurrentPrincipal,
                   enterprise: str | None = None, department: uuid.UUID | None = None,
                   day: Day | None = None) -> Response:
    """The supervisor dashboard, with inline SVG charts."""
    from passtrace.web.render import render

    if not principal.has("report.supervise"):
        raise Forbidden("Your role does not allow this.")
    code = enterprise or dashboard_service.default_enterprise(session=session, actor=principal)
    if not code:
        raise Forbidden("Your role does not allow this.")
    board = dashboard_service.build(session=session, actor=principal, enterprise_code=code,
                                    department_id=department, day=day)
    labels = [d.day.strftime("%m-%d") for d in board.trend]
    trend_svg = charts.line_chart(
        labels, [p.rate * 100 for p in board.trend], unit="%", y_max=100,
        title=gettext("Submission rate, last 14 days"),
        desc=gettext("Share of staff who filed their report on each of the last 14 days."),
        y_label=gettext("Filed (%%)").replace("%%", "%"))
    dept_svg = charts.bar_chart(
        [d.name for d in board.departments], [d.rate * 100 for d in board.departments],
        unit="%", y_max=100, title=gettext("Submission rate by department today"),
        y_label=gettext("Filed (%%)").replace("%%", "%"))
    _, allowed = dashboard_service.scope(session=session, actor=principal, enterprise_code=code)
    dept_choices = [(d.id, d.name) for d in session.scalars(
        select(Department).where(Department.enterprise_id == board.enterprise_id)
        .order_by(Department.name)) if allowed is None or d.id in allowed]
    today = local_today()
    risks = area_risks.active(session=session)
    return render(request, "reports/dashboard.html", {
        "b": board, "code": code, "department": department, "trend_svg": trend_svg,
        "dept_svg": dept_svg, "percent": _percent, "dept_choices": dept_choices,
        "risks": risks, "risk_labels": present.RISK_LABELS,
        "risk_areas": area_service.names(session=session, codes=sorted(
            {r.area_code for r in risks}), locale=get_locale()),
        "export_from": (today - timedelta(days=13)).isoformat(), "export_to": today.isoformat(),
        "now": utcnow(),
    })


@router.get("/export")
def export_page(session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
                enterprise: str = "", start: Day | None = None, end: Day | None = None,
                format: str = "csv", department: uuid.UUID | None = None) -> StreamingResponse:
    """Download from the dashboard (same rules as the API)."""
    import re

    if not re.fullmatch(CREDIT, enterprise):
        raise Forbidden("Your role does not allow this.")
    today = local_today()
    return stream_export(session=session, rt=rt, principal=principal, enterprise=enterprise,
                         start=start or today, end=end or today,
                         fmt="xlsx" if format == "xlsx" else "csv", department=department)


@router.get("/view/{report_id}")
def report_page(request: Request, report_id: uuid.UUID, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """One report (a dashboard anomaly row opens it): filer, department head, admin."""
    from passtrace.web.render import render

    report = report_service.visible_report(session=session, actor=principal,
                                           report_id=report_id)
    emp = session.get(Employee, report.employee_id)
    return render(request, "reports/view.html", {
        "r": present.to_read(session, report), "name": emp.listed_name if emp else "",
        "employee_id": report.employee_id, "mode_labels": present.MODE_LABELS,
        "symptom_labels": present.SYMPTOM_LABELS})


@router.get("/employee/{employee_id}")
def employee_page(request: Request, employee_id: uuid.UUID, session: SessionDep,
                  principal: CurrentPrincipal) -> Response:
    """One person's recent reports (a dashboard overdue row opens it)."""
    from passtrace.web.render import render

    emp, reports = report_service.employee_reports(session=session, actor=principal,
                                                   employee_id=employee_id)
    return render(request, "reports/employee.html", {
        "name": emp.listed_name, "reports": reports, "today": local_today()})
