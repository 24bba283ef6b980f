"""Daily reports: file (full, same as yesterday, stayed home), amend, read, list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import LOCAL_TZ, local_today, utcnow
from passtrace.core.errors import Conflict, InvalidState, NotFound
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.reports import authz, counts, rules
from passtrace.reports.models import FEVER_AT, DailyReport, ReportStop
from passtrace.reports.rules import CleanStop
from passtrace.reports.schemas import QuickIn, ReportIn, StopIn


def deadline_for(deadline: time, day: date) -> datetime:
    """Return the moment (UTC-aware) a report for `day` is due."""
    return datetime.combine(day, deadline, LOCAL_TZ)


def is_flagged(temperature: float, symptoms: list[str]) -> bool:
    """Fever or any symptom."""
    return temperature >= FEVER_AT or bool(symptoms)


def employee_of(*, session: Session, actor: Principal) -> Employee:
    """Return the actor's active employee record, or explain why they cannot file."""
    return _filer(session, actor)[0]


def is_filer(*, session: Session, actor: Principal) -> bool:
    """Tell whether the actor is on an active staff list, so has a daily report to file."""
    return session.scalar(select(Employee.id).where(
        Employee.user_id == actor.user_id, Employee.status == "active").limit(1)) is not None


def _filer(session: Session, actor: Principal) -> tuple[Employee, Enterprise]:
    # The enterprise comes along (its deadline decides lateness): one round trip.
    row = session.execute(
        select(Employee, Enterprise).join(Enterprise, Enterprise.id == Employee.enterprise_id)
        .where(Employee.user_id == actor.user_id, Employee.status == "active")
        .order_by(Employee.created_at).limit(1)).first()
    if row is None:
        raise InvalidState("Your account is not linked to an employer yet; open the invite "
                           "link your employer sent you.")
    return row[0], row[1]


def get_report(*, session: Session, employee_id: uuid.UUID, day: date,
               for_update: bool = False) -> DailyReport | None:
    """Get an employee's report for a date (for_update: held until commit, read fresh)."""
    stmt = select(DailyReport).where(DailyReport.employee_id == employee_id,
                                     DailyReport.report_date == day)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def _store(session: Session, actor: Principal, emp: Employee, enterprise: Enterprise,
           day: date, temperature: float, symptoms: list[str], stayed_home: bool,
           stops: list[CleanStop], source: str,
           report_id: uuid.UUID | None) -> tuple[DailyReport, bool]:
    now = utcnow()
    # Race: two amendments of one report at once (phone and page) each replaced the
    # stops the other was replacing: mixed stops, or a delete of rows already gone (a
    # 500). The report's row is held until commit (PostgreSQL; SQLite refuses the
    # second writer as busy). Two first filings at once are stopped by the unique
    # (employee, date) constraint instead: the loser gets 409 and its count bump
    # rolls back with it.
    existing = get_report(session=session, employee_id=emp.id, day=day, for_update=True)
    symptoms = sorted(set(symptoms))
    if existing is not None:
        # Amend: the content is replaced, lateness stays as first filed.
        existing.temperature, existing.symptoms = temperature, symptoms
        existing.stayed_home, existing.source, existing.amended_at = stayed_home, source, now
        existing.flagged = is_flagged(temperature, symptoms)
        existing.stops.clear()
        session.flush()
        report = existing
        created = False
    else:
        report = DailyReport(id=report_id or uuid7(), employee_id=emp.id,
                             enterprise_id=emp.enterprise_id, department_id=emp.department_id,
                             filed_by=actor.user_id, report_date=day, temperature=temperature,
                             symptoms=symptoms, stayed_home=stayed_home, source=source,
                             submitted_at=now,
                             late=now > deadline_for(enterprise.report_deadline, day),
                             flagged=is_flagged(temperature, symptoms),
                             # Trajectory verification joins reports to registrations
                             # (which carry only the hash) on it.
                             # (The person is loaded with the employee: no extra query.)
                             person_hash=emp.person.id_hash)
        session.add(report)
        created = True
    for seq, s in enumerate(stops, start=1):
        report.stops.append(ReportStop(seq=seq, area_code=s.area_code, place=s.place,
                                       arrive_at=s.arrive_at, depart_at=s.depart_at,
                                       mode=s.mode, ref=s.ref, seat=s.seat))
    # No flush of its own: the id is set already, and the audit entry's flush writes
    # the report, its stops and the entry in one go.
    audit_service.record(session=session, actor=actor,
                         action="report.file" if created else "report.amend",
                         resource_type="daily_report", resource_id=report.id,
                         subject_person_id=emp.person_id,
                         detail={"date": day.isoformat(), "source": source,
                                 "stops": len(stops), "late": report.late})
    if created:
        # Last write of the transaction: the count row stays locked only until commit.
        counts.bump(session=session, enterprise_id=enterprise.id,
                    department_id=emp.department_id, day=day)
    return report, created


def _retry_of(session: Session, actor: Principal, report_id: uuid.UUID | None,
              emp: Employee) -> DailyReport | None:
    """A retried submission (double tap, flaky network) returns the first one."""
    if report_id is None:
        return None
    existing = session.get(DailyReport, report_id)
    if existing is None:
        return None
    if existing.employee_id != emp.id:
        raise Conflict("This report id is already used.")
    return existing


@dataclass
class _Filing:
    """Who files, for which day, with which temperature: checked once for every way to file."""

    emp: Employee
    enterprise: Enterprise
    day: date
    temperature: float
    now: datetime


def _begin(session: Session, rt: Runtime, actor: Principal, data: ReportIn | QuickIn
           ) -> DailyReport | _Filing:
    """Return the first report if this is a retry, else the checked start of a filing."""
    emp, enterprise = _filer(session, actor)
    retry = _retry_of(session, actor, data.id, emp)
    if retry is not None:
        return retry
    now = utcnow()
    day = rules.validate_date(data.report_date or local_today(now), local_today(now),
                              rt.settings.report_backfill_days)
    return _Filing(emp=emp, enterprise=enterprise, day=day, now=now,
                   temperature=rules.validate_temperature(data.temperature))


def submit(*, session: Session, rt: Runtime, actor: Principal,
           data: ReportIn) -> tuple[DailyReport, bool]:
    """File (or amend) the actor's report; returns it and whether it was new."""
    f = _begin(session, rt, actor, data)
    if isinstance(f, DailyReport):
        return f, False
    if data.stayed_home and data.stops:
        raise rules.fail("stops", N_("A stayed-home report has no places; remove them or "
                                     "untick 'stayed home'."))
    if not data.stayed_home and not data.stops:
        raise rules.fail("stops", N_("Add at least one place, or choose 'stayed home all day'."))
    stops = rules.validate_stops(session, data.stops, f.day, f.now)
    return _store(session, actor, f.emp, f.enterprise, f.day, f.temperature,
                  list(data.symptoms), data.stayed_home, stops, "form", data.id)


def quick(*, session: Session, rt: Runtime, actor: Principal,
          data: QuickIn) -> tuple[DailyReport, bool]:
    """One tap: copy yesterday's places to today, or file 'stayed home all day'."""
    f = _begin(session, rt, actor, data)
    if isinstance(f, DailyReport):
        return f, False
    if data.kind == "stayed_home":
        return _store(session, actor, f.emp, f.enterprise, f.day, f.temperature,
                      list(data.symptoms), True, [], "stayed_home", data.id)
    before = get_report(session=session, employee_id=f.emp.id, day=f.day - timedelta(days=1))
    if before is None:
        raise InvalidState("There is no report for the day before to copy; please fill in "
                           "the form.")
    one_day = timedelta(days=1)
    copied = [StopIn(area_code=s.area_code, place=s.place, arrive_at=s.arrive_at + one_day,
                     depart_at=s.depart_at + one_day if s.depart_at else None,
                     mode=s.mode, ref=s.ref, seat=s.seat)  # type: ignore[arg-type]
              for s in before.stops]
    stops = rules.validate_stops(session, copied, f.day, f.now)
    return _store(session, actor, f.emp, f.enterprise, f.day, f.temperature,
                  list(data.symptoms), before.stayed_home, stops, "same_as_yesterday", data.id)


def visible_report(*, session: Session, actor: Principal, report_id: uuid.UUID) -> DailyReport:
    """Get a report the actor may see (others get 'not found'); reads by others audited."""
    report = session.get(DailyReport, report_id)
    # An imported report (no employer) is nobody's here: tracing reads it, not this page.
    if report is None or report.employee_id is None or report.enterprise_id is None:
        raise NotFound("No such report.")
    emp = session.get(Employee, report.employee_id)
    enterprise = session.get(Enterprise, report.enterprise_id)
    if emp is None or enterprise is None or not authz.can_view(actor, emp, enterprise):
        raise NotFound("No such report.")
    if not authz.is_filer(actor, emp):
        audit_service.record(session=session, actor=actor, action="report.view",
                             resource_type="daily_report", resource_id=report.id,
                             subject_person_id=emp.person_id)
    return report


def employee_reports(*, session: Session, actor: Principal, employee_id: uuid.UUID,
                     days: int = 14) -> tuple[Employee, list[DailyReport]]:
    """One employee's recent reports, for whom may see them (others: 'not found'); audited.

    The dashboard's overdue rows open this: the person has no report for the day, so
    their recent ones show what they usually file and since when they stopped.
    """
    emp = session.get(Employee, employee_id)
    enterprise = session.get(Enterprise, emp.enterprise_id) if emp is not None else None
    if emp is None or enterprise is None or not authz.can_view(actor, emp, enterprise):
        raise NotFound("No such report.")
    since = local_today() - timedelta(days=days)
    reports = list(session.scalars(select(DailyReport).where(
        DailyReport.employee_id == emp.id, DailyReport.report_date >= since)
        .order_by(DailyReport.report_date.desc())))
    if not authz.is_filer(actor, emp):
        audit_service.record(session=session, actor=actor, action="report.view",
                             resource_type="employee", resource_id=emp.id,
                             subject_person_id=emp.person_id,
                             detail={"reports": len(reports), "days": days})
    return emp, reports


def list_mine(*, session: Session, actor: Principal, days: int = 14) -> list[DailyReport]:
    """List the actor's own recent reports, newest first."""
    emp = session.scalars(select(Employee).where(Employee.user_id == actor.user_id)
                          .order_by(Employee.created_at).limit(1)).first()
    if emp is None:
        return []
    since = local_today() - timedelta(days=days)
    return list(session.scalars(select(DailyReport).where(
        DailyReport.employee_id == emp.id, DailyReport.report_date >= since)
        .order_by(DailyReport.report_date.desc())))
