"""The supervisor dashboard: submission rates, overdue people, anomalies, 14-day trend."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from passtrace.areas import risks as area_risks
from passtrace.audit import service as audit_service
from passtrace.core.clock import LOCAL_TZ, local_today, utcnow
from passtrace.core.errors import NotFound
from passtrace.core.i18n import gettext
from passtrace.core.security import Principal
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.reports import authz
from passtrace.reports.models import (
    FEVER_AT,
    DailyReport,
    ReportDayCount,
    ReportStop,
)
from passtrace.reports.reminders import missed, no_report_on
from passtrace.reports.schemas import (
    Anomaly,
    Dashboard,
    DepartmentRate,
    OverduePerson,
    TrendPoint,
)
from passtrace.reports.service import deadline_for

TREND_DAYS = 14
OVERDUE_SHOWN = 200
ANOMALIES_SHOWN = 200


def scope(*, session: Session, actor: Principal, enterprise_code: str,
          department_id: uuid.UUID | None = None,
          permission: str = "report.supervise") -> tuple[Enterprise, set[uuid.UUID] | None]:
    """Resolve what the actor may supervise: the enterprise and its departments (None: all)."""
    ent = session.scalars(select(Enterprise).where(
        Enterprise.credit_code == enterprise_code)).first()
    if ent is None:
        raise NotFound("No such enterprise.")
    if authz.supervises_enterprise(actor, ent, permission):
        allowed: set[uuid.UUID] | None = None
    else:
        heads = set()
        for value in authz.department_scopes(actor, permission):
            try:
                heads.add(uuid.UUID(value))
            except ValueError:
                continue
        allowed = set(session.scalars(select(Department.id).where(
            Department.enterprise_id == ent.id, Department.id.in_(heads)))) if heads else set()
        if not allowed:
            raise NotFound("No such enterprise.")
    if department_id is not None:
        if allowed is not None and department_id not in allowed:
            raise NotFound("No such department.")
        dept = session.get(Department, department_id)
        if dept is None or dept.enterprise_id != ent.id:
            raise NotFound("No such department.")
        allowed = {department_id}
    return ent, allowed


def default_enterprise(*, session: Session, actor: Principal) -> str | None:
    """The enterprise a supervisor most likely means (their first binding)."""
    for b in actor.bindings:
        if b.scope_type == "enterprise" and actor.covers("report.supervise", "enterprise",
                                                         b.scope_value):
            return b.scope_value
    for value in authz.department_scopes(actor):
        try:
            dept = session.get(Department, uuid.UUID(value))
        except ValueError:
            continue
        if dept is not None:
            ent = session.get(Enterprise, dept.enterprise_id)
            if ent is not None:
                return ent.credit_code
    return None


def _pairs(rows: Any) -> list[tuple[Any, Any]]:
    return [(r[0], r[1]) for r in rows]


def _dept_filter(column: Any, allowed: set[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    return [] if allowed is None else [column.in_(allowed)]


def _risky_reports(session: Session, ent: Enterprise, day: date,
                   allowed: set[uuid.UUID] | None) -> dict[uuid.UUID, list[str]]:
    start = datetime.combine(day, datetime.min.time(), LOCAL_TZ)
    end = start + timedelta(days=1)
    risks = area_risks.overlapping(session=session, start=start, end=end)
    if not risks:
        return {}
    prefixes = {r.area_prefix for r in risks}
    stmt = (select(ReportStop.report_id, ReportStop.area_code, ReportStop.arrive_at,
                   ReportStop.depart_at)
            .join(DailyReport, DailyReport.id == ReportStop.report_id)
            .where(DailyReport.enterprise_id == ent.id, DailyReport.report_date == day,
                   or_(*[ReportStop.area_code.startswith(p, autoescape=True)
                         for p in prefixes]),
                   *_dept_filter(DailyReport.department_id, allowed)))
    found: dict[uuid.UUID, list[str]] = {}
    for report_id, code, arrive, depart in session.execute(stmt):
        leave = depart or arrive
        for r in risks:
            if code.startswith(r.area_prefix) and r.valid_from <= leave and (
                    r.valid_until is None or r.valid_until > arrive):
                found.setdefault(report_id, []).append(r.area_code)
    return found


def build(*, session: Session, actor: Principal, enterprise_code: str,
          department_id: uuid.UUID | None = None, day: date | None = None,
          now: datetime | None = None, audit: bool = True) -> Dashboard:
    """Compute the dashboard for one day (today by default) in the actor's scope."""
    now = now or utcnow()
    ent, allowed = scope(session=session, actor=actor, enterprise_code=enterprise_code,
                         department_id=department_id)
    today = local_today(now)
    day = min(day or today, today)
    deadline = deadline_for(ent.report_deadline, day)
    passed = now >= deadline

    dept_names = dict(_pairs(session.execute(select(Department.id, Department.name).where(
        Department.enterprise_id == ent.id, *_dept_filter(Department.id, allowed))).all()))
    headcount = dict(_pairs(session.execute(
        select(Employee.department_id, func.count()).where(
            Employee.enterprise_id == ent.id, Employee.status == "active",
            *_dept_filter(Employee.department_id, allowed))
        .group_by(Employee.department_id)).all()))
    # Kept per (enterprise, date, department) as reports are filed: a few rows, not a
    # count over the day's reports.
    submitted = dict(_pairs(session.execute(
        select(ReportDayCount.department_id, ReportDayCount.submitted).where(
            ReportDayCount.enterprise_id == ent.id, ReportDayCount.report_date == day,
            *_dept_filter(ReportDayCount.department_id, allowed))).all()))
    departments = []
    for dept_id, name in sorted(dept_names.items(), key=lambda kv: kv[1]):
        n, s = headcount.get(dept_id, 0), submitted.get(dept_id, 0)
        departments.append(DepartmentRate(department_id=dept_id, name=name, headcount=n,
                                          submitted=s, rate=round(s / n, 4) if n else 0.0))
    total_n = sum(headcount.values())
    total_s = sum(submitted.values())

    overdue: list[OverduePerson] = []
    shown: list[tuple[object, uuid.UUID]] = []  # (employee, person) named on the dashboard
    overdue_total = 0
    if passed:
        base = [Employee.enterprise_id == ent.id, Employee.status == "active",
                no_report_on(day, ent.id), *_dept_filter(Employee.department_id, allowed)]
        # One anti-join over employees alone gives the first page and the total (a
        # window count); names and departments are then joined for that page only.
        order = (Employee.department_id, Employee.employee_no)
        page = (select(Employee.id, func.count().over().label("total")).where(*base)
                .order_by(*order).limit(OVERDUE_SHOWN).subquery())
        found = session.execute(select(Employee, page.c.total)
                                .options(selectinload(Employee.hr_claim))
                                .join(page, page.c.id == Employee.id).order_by(*order)).all()
        rows = [e for e, _ in found]
        overdue_total = int(found[0][1]) if found else 0
        before = missed(session=session, employee_ids=[e.id for e in rows],
                        day=day - timedelta(days=1))
        shown += [(e.id, e.person_id) for e in rows]
        overdue = [OverduePerson(employee_id=e.id, name=e.listed_name,
                                 department=e.department.name, missed_before=e.id in before)
                   for e in rows]

    risky = _risky_reports(session, ent, day, allowed)
    flagged_filter = [DailyReport.enterprise_id == ent.id, DailyReport.report_date == day,
                      *_dept_filter(DailyReport.department_id, allowed)]
    cond: ColumnElement[bool] = DailyReport.flagged.is_(True)
    if risky:
        cond = or_(cond, DailyReport.id.in_(list(risky)))
    anomalies = []
    for report, emp in session.execute(
            select(DailyReport, Employee).join(Employee, Employee.id == DailyReport.employee_id)
            .options(selectinload(Employee.hr_claim))
            .where(and_(*flagged_filter), cond).order_by(DailyReport.temperature.desc())
            .limit(ANOMALIES_SHOWN)):
        reasons = []
        if report.temperature is not None and report.temperature >= FEVER_AT:
            reasons.append(gettext("fever %(temp)s °C", temp=report.temperature))
        if report.symptoms:
            reasons.append(gettext("symptoms"))
        if report.id in risky:
            reasons.append(gettext("was in a risk area"))
        shown.append((emp.id, emp.person_id))
        anomalies.append(Anomaly(report_id=report.id, employee_id=emp.id,
                                 name=emp.listed_name, department=emp.department.name,
                                 reasons=reasons, temperature=report.temperature))

    first = day - timedelta(days=TREND_DAYS - 1)
    per_day = {d: int(n) for d, n in session.execute(
        select(ReportDayCount.report_date, func.sum(ReportDayCount.submitted)).where(
            ReportDayCount.enterprise_id == ent.id, ReportDayCount.report_date >= first,
            ReportDayCount.report_date <= day,
            *_dept_filter(ReportDayCount.department_id, allowed))
        .group_by(ReportDayCount.report_date))}
    trend = []
    for i in range(TREND_DAYS):
        d = first + timedelta(days=i)
        s = per_day.get(d, 0)
        trend.append(TrendPoint(day=d, submitted=s, headcount=total_n,
                                rate=round(s / total_n, 4) if total_n else 0.0))

    if audit:
        # One entry per bulk read: who looked at whose reports, and how many.
        audit_service.record(session=session, actor=actor, action="report.dashboard",
                             resource_type="enterprise", resource_id=ent.id,
                             detail={"day": day.isoformat(),
                                     "departments": sorted(str(d) for d in allowed)
                                     if allowed is not None else "all",
                                     "overdue_shown": len(overdue),
                                     "anomalies_shown": len(anomalies)})
        # ...and each person named on it sees the read in their own access log.
        audit_service.record_reads(session=session, actor=actor, action="report.dashboard",
                                   resource_type="employee", people=shown,
                                   detail={"day": day.isoformat()})
    return Dashboard(enterprise_id=ent.id, enterprise_name=ent.name, day=day,
                     deadline=deadline, deadline_passed=passed, headcount=total_n,
                     submitted=total_s, rate=round(total_s / total_n, 4) if total_n else 0.0,
                     departments=departments, overdue=overdue, overdue_total=overdue_total,
                     anomalies=anomalies, trend=trend)
