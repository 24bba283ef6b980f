"""Reading verification findings: who may, summaries per day, one report's findings."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.areas.models import Area
from passtrace.audit import service as audit_service
from passtrace.core.errors import Forbidden, InvalidState, NotFound
from passtrace.core.i18n import N_, get_locale
from passtrace.core.pagination import paginate_query
from passtrace.core.security import Principal
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people.models import Person, PersonClaim
from passtrace.registrations.models import Registration
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site
from passtrace.tracing import verify
from passtrace.tracing.models import FINDING_CLASSES, ReportFinding

PERMISSION = "trajectory.verify"
MAX_DAYS = 31


def scope(*, session: Session, actor: Principal,
          e: Enterprise) -> set[uuid.UUID] | None:
    """The departments whose findings the actor may read (None: all of them).

    HR of the enterprise and officials over its area see all; a department head sees
    their departments; anyone else with the permission gets 404, without it 403.
    """
    if not actor.has(PERMISSION):
        raise Forbidden("Your role does not allow this.")
    if (actor.covers(PERMISSION, "enterprise", e.credit_code)
            or actor.covers_area(PERMISSION, e.area_code)):
        return None
    heads = {d for d in session.scalars(select(Department.id).where(
        Department.enterprise_id == e.id)) if actor.covers(PERMISSION, "department", str(d))}
    if heads:
        return heads
    raise NotFound("No such enterprise.")


def enterprise(*, session: Session, actor: Principal, enterprise_id: uuid.UUID
               ) -> tuple[Enterprise, set[uuid.UUID] | None]:
    """Get an enterprise and the actor's department scope in it."""
    e = session.get(Enterprise, enterprise_id)
    if e is None:
        if not actor.has(PERMISSION):
            raise Forbidden("Your role does not allow this.")
        raise NotFound("No such enterprise.")
    return e, scope(session=session, actor=actor, e=e)


def check_range(first: date, last: date) -> None:
    """Refuse reversed or overlong date ranges."""
    if last < first:
        raise InvalidState(N_("The first date is after the last."))
    if (last - first).days >= MAX_DAYS:
        raise InvalidState(N_("Choose at most %(days)s days."), days=MAX_DAYS)


@dataclass
class DayLine:
    day: date
    reports: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def accuracy(self) -> float | None:
        return verify.accuracy(self.counts)


def summary(*, session: Session, e: Enterprise, departments: set[uuid.UUID] | None,
            first: date, last: date) -> list[DayLine]:
    """Per day: reports verified (having findings) and counts per class (no personal data)."""
    where = [DailyReport.enterprise_id == e.id, DailyReport.report_date >= first,
             DailyReport.report_date <= last]
    if departments is not None:
        where.append(DailyReport.department_id.in_(departments))
    days: dict[date, DayLine] = {}
    for day, cls, n in session.execute(
            select(DailyReport.report_date, ReportFinding.finding_class, func.count())
            .join(DailyReport, DailyReport.id == ReportFinding.report_id).where(*where)
            .group_by(DailyReport.report_date, ReportFinding.finding_class)):
        line = days.setdefault(day, DayLine(day))
        line.counts[cls] = n
    for day, reports in session.execute(
            select(DailyReport.report_date, func.count(func.distinct(ReportFinding.report_id)))
            .join(DailyReport, DailyReport.id == ReportFinding.report_id).where(*where)
            .group_by(DailyReport.report_date)):
        days.setdefault(day, DayLine(day)).reports = reports
    return [days[d] for d in sorted(days, reverse=True)]


@dataclass
class ReportLine:
    id: uuid.UUID
    day: date
    name: str
    counts: dict[str, int]

    @property
    def accuracy(self) -> float | None:
        return verify.accuracy(self.counts)


def reports(*, session: Session, actor: Principal, e: Enterprise,
            departments: set[uuid.UUID] | None, first: date, last: date,
            cursor: str | None) -> tuple[list[ReportLine], str | None]:
    """One page of verified reports (newest first) with their counts; audited per person."""
    stmt = select(DailyReport).where(
        DailyReport.enterprise_id == e.id, DailyReport.report_date >= first,
        DailyReport.report_date <= last,
        select(ReportFinding.id).where(ReportFinding.report_id == DailyReport.id).exists())
    if departments is not None:
        stmt = stmt.where(DailyReport.department_id.in_(departments))
    rows: list[DailyReport]
    rows, nxt = paginate_query(session, stmt, [DailyReport.report_date, DailyReport.id],
                               cursor=cursor, limit=50, descending=True)
    ids = [r.id for r in rows]
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for rid, cls, n in session.execute(
            select(ReportFinding.report_id, ReportFinding.finding_class, func.count())
            .where(ReportFinding.report_id.in_(ids))
            .group_by(ReportFinding.report_id, ReportFinding.finding_class)):
        counts[rid][cls] = n
    people = dict(session.execute(
        select(Employee.id, Person.id).join(Person, Person.id == Employee.person_id)
        .where(Employee.id.in_({r.employee_id for r in rows}))).all())
    # The name the enterprise's staff list gives (its own claim), never the registry's:
    # HR and department heads read these pages, and an employer sees what it supplied.
    names = dict(session.execute(select(PersonClaim.person_id, PersonClaim.name_masked).where(
        PersonClaim.source_kind == "enterprise", PersonClaim.source_id == e.id,
        PersonClaim.person_id.in_(set(people.values())))).all())
    audit_service.record_many(session=session, actor=actor, entries=[
        {"action": "report.findings.view", "resource_type": "daily_report",
         "resource_id": r.id,
         "subject_person_id": people.get(r.employee_id) if r.employee_id else None}
        for r in rows])
    person_of = {r.id: people.get(r.employee_id) if r.employee_id else None for r in rows}
    return [ReportLine(r.id, r.report_date, names.get(pid, "") if (pid := person_of[r.id])
                       else "", counts[r.id]) for r in rows], nxt


@dataclass
class Line:
    """One row of a report's drill-down: a stop or a registration, with its finding."""

    at: datetime
    kind: str  # stop | registration
    finding_class: str | None
    stop_seq: int | None = None
    area_code: str = ""
    until: datetime | None = None
    site_name: str = ""
    registration_id: uuid.UUID | None = None
    place: str = ""  # a stop's place as the person typed it ("home", a shop's name)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportView:
    report: DailyReport
    name: str
    lines: list[Line]
    counts: dict[str, int]
    tolerance: int | None
    areas: dict[str, str] = field(default_factory=dict)
    own: bool = False  # the filer reading their own report (no enterprise summary for them)

    @property
    def accuracy(self) -> float | None:
        return verify.accuracy(self.counts)


def report_findings(*, session: Session, actor: Principal, report_id: uuid.UUID
                    ) -> ReportView:
    """One report's stops and the registrations its findings name, on one time-ordered list.

    The filer may read their own (it is their trajectory; seeing what the sites did not
    confirm lets them correct a report); HR and officials in scope read it audited.
    """
    report = session.get(DailyReport, report_id)
    emp = session.get(Employee, report.employee_id) if report else None
    if report is None or emp is None:
        if not actor.has(PERMISSION):
            raise Forbidden("Your role does not allow this.")
        raise NotFound("No such report.")
    own = emp.user_id is not None and emp.user_id == actor.user_id
    if not own:
        e = session.get(Enterprise, report.enterprise_id)
        assert e is not None
        allowed = scope(session=session, actor=actor, e=e)
        if allowed is not None and report.department_id not in allowed:
            raise NotFound("No such report.")
        audit_service.record(session=session, actor=actor, action="report.findings.view",
                             resource_type="daily_report", resource_id=report.id,
                             subject_person_id=emp.person_id)
    findings = list(session.scalars(select(ReportFinding).where(
        ReportFinding.report_id == report.id)))
    by_stop = {f.stop_seq: f for f in findings if f.stop_seq is not None}
    lines = [Line(s.arrive_at, "stop", by_stop[s.seq].finding_class if s.seq in by_stop
                  else None, s.seq, s.area_code, s.depart_at,
                  registration_id=by_stop[s.seq].registration_id if s.seq in by_stop
                  else None, place=s.place)
             for s in session.scalars(select(ReportStop).where(
                 ReportStop.report_id == report.id).order_by(ReportStop.seq))]
    reg_ids = {f.registration_id for f in findings if f.registration_id is not None}
    regs = {r.id: (r.occurred_at, name, area) for r, name, area in session.execute(
        select(Registration, Site.name, Site.area_code).join(Site, Site.id == Registration.site_id)
        .where(Registration.id.in_(reg_ids)))}
    for f in findings:
        if f.registration_id in regs:
            at, name, area = regs[f.registration_id]
            lines.append(Line(at, "registration",
                              f.finding_class if f.stop_seq is None else None,
                              f.stop_seq, area, site_name=name,
                              registration_id=f.registration_id))
    lines.sort(key=lambda ln: (ln.at, ln.kind != "stop"))
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        counts[f.finding_class] += 1
    # The filer reads their own name; anyone else the staff list's (see reports()).
    if own:
        person = session.get(Person, emp.person_id)
        name = person.name_masked if person else ""
    else:
        name = emp.hr_claim.name_masked if emp.hr_claim is not None else ""
    return ReportView(report, name, lines, counts,
                      findings[0].tolerance_minutes if findings else None,
                      area_names(session, {ln.area_code for ln in lines}), own)


def area_names(session: Session, codes: set[str]) -> dict[str, str]:
    """Names of areas in the current language (a stop names an area, never a code)."""
    zh = get_locale() == "zh_CN"
    return {a.code: a.name_zh if zh else a.name_en
            for a in session.scalars(select(Area).where(Area.code.in_(codes)))}


CLASS_LABELS = {
    "corroborated": N_("Corroborated"),
    "unreported_visit": N_("Unreported visit"),
    "contradiction": N_("Contradiction"),
    "uncorroborated": N_("Uncorroborated"),
    "unobservable": N_("Unobservable"),
}
assert set(CLASS_LABELS) == set(FINDING_CLASSES)
