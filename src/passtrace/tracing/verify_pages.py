"""Trajectory verification pages: an enterprise's summary (HR, department heads, officials
over its area), one report's findings, verifying on demand, and the tolerance setting."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import Field

from passtrace.audit import service as audit_service
from passtrace.core.clock import local_today
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import gettext
from passtrace.core.validators import Day
from passtrace.enterprises import service as enterprise_service
from passtrace.tracing import verify, verify_read
from passtrace.web import charts, forms
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/verify", include_in_schema=False)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


class ToleranceForm(forms.FormModel):
    """The enterprise's verification tolerance, in minutes."""

    minutes: Annotated[int, Field(ge=verify.MIN_TOLERANCE, le=verify.MAX_TOLERANCE)] = 30

    def parse(self) -> int:
        return self.minutes


class RunForm(forms.FormModel):
    """Verify the shown dates now."""

    start: Day
    end: Day

    def parse(self) -> RunForm:
        verify_read.check_range(self.start, self.end)
        return self


def _error(request: Request, back: str) -> forms.Page:
    return lambda f: render(request, "error.html", {
        "status": f.status, "message": next(iter(f.errors.values()), None) or f.message,
        "back": back}, status_code=f.status)


@router.get("/enterprises/{enterprise_id}")
def summary(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
            principal: CurrentPrincipal, start: Day | None = None, end: Day | None = None,
            cursor: str = "") -> Response:
    """Reports verified, accuracy and counts per class per day; the reports to drill into."""
    e, departments = verify_read.enterprise(session=session, actor=principal,
                                            enterprise_id=enterprise_id)
    last = end or local_today()
    first = start or last - timedelta(days=6)
    verify_read.check_range(first, last)
    days = verify_read.summary(session=session, e=e, departments=departments, first=first,
                               last=last)
    rows, nxt = verify_read.reports(session=session, actor=principal, e=e,
                                    departments=departments, first=first, last=last,
                                    cursor=cursor[:200] or None)
    return render(request, "tracing/verify_summary.html", {
        "e": e, "days": days, "rows": rows, "next": nxt, "start": first, "end": last,
        "charts": _day_charts(days),
        "labels": verify_read.CLASS_LABELS, "percent": _percent,
        "can_manage": principal.covers("enterprise.manage", "enterprise", e.credit_code)})


def _day_charts(days: list[verify_read.DayLine]) -> list[Markup]:
    """Accuracy per day (a line) and the findings HR acts on per day (bars), oldest first:
    a week's trend is read at a glance, the table below keeps the exact figures."""
    if not days:
        return []
    ordered = sorted(days, key=lambda d: d.day)
    labels = [d.day.strftime("%m-%d") for d in ordered]
    out = []
    measured = [d for d in ordered if d.accuracy is not None]
    if measured:
        out.append(charts.line_chart(
            [d.day.strftime("%m-%d") for d in measured],
            [(d.accuracy or 0.0) * 100 for d in measured], unit="%", y_max=100,
            title=gettext("Accuracy per day"),
            desc=gettext("Share of the stops a site could have seen that a site confirmed.")))
    out.append(charts.grouped_bar_chart(labels, [
        (gettext(verify_read.CLASS_LABELS[cls]), [d.counts.get(cls, 0) for d in ordered], color)
        for cls, color in (("contradiction", "#c62828"), ("unreported_visit", "#b26a00"))],
        title=gettext("Contradictions and unreported visits per day")))
    return out


@router.post("/enterprises/{enterprise_id}/run")
def run(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
        principal: CurrentPrincipal, form: Annotated[RunForm, Form()]) -> Response:
    """Verify the enterprise's reports of the chosen dates now (replacing their findings)."""
    back = f"/verify/enterprises/{enterprise_id}"

    def save(data: RunForm) -> Response:
        e, _ = verify_read.enterprise(session=session, actor=principal,
                                      enterprise_id=enterprise_id)
        stats = verify.verify(session=session, first=data.start, last=data.end,
                              enterprise_id=e.id)
        audit_service.record(session=session, actor=principal, action="report.verify",
                             resource_type="enterprise", resource_id=e.id,
                             detail={"from": data.start.isoformat(),
                                     "to": data.end.isoformat(), "reports": stats.reports})
        return RedirectResponse(f"{back}?start={data.start}&end={data.end}", status_code=303)

    return forms.submit(session, form, save, _error(request, back))


@router.post("/enterprises/{enterprise_id}/tolerance")
def set_tolerance(request: Request, enterprise_id: uuid.UUID, session: SessionDep,
                  principal: CurrentPrincipal,
                  form: Annotated[ToleranceForm, Form()]) -> Response:
    """The enterprise admin sets how far a registration may lie outside a reported stop."""
    if not principal.has("enterprise.view"):
        raise Forbidden("Your role does not allow this.")  # a resident: 403, not 404
    back = f"/enterprises/{enterprise_id}"

    def save(minutes: int) -> Response:
        e = enterprise_service.get_managed(session=session, actor=principal,
                                           enterprise_id=enterprise_id)
        old, e.verify_tolerance_minutes = e.verify_tolerance_minutes, minutes
        audit_service.record(session=session, actor=principal,
                             action="enterprise.verify_tolerance", resource_type="enterprise",
                             resource_id=e.id, detail={"from": old, "to": minutes})
        return RedirectResponse(back, status_code=303)

    return forms.submit(session, form, save, _error(request, back))


@router.get("/reports/{report_id}")
def report(request: Request, report_id: uuid.UUID, session: SessionDep,
           principal: CurrentPrincipal) -> Response:
    """One report's stops and registrations on one list, each with its finding."""
    view = verify_read.report_findings(session=session, actor=principal, report_id=report_id)
    return render(request, "tracing/verify_report.html", {
        "v": view, "labels": verify_read.CLASS_LABELS, "percent": _percent})
