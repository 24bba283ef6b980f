"""Export reports with their stops: one row per stop, streamed from the database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import gettext, lazy_gettext
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people.models import Person
from passtrace.trajectories.models import DailyReport, ReportStop

MAX_DAYS = 92
BATCH = 5000
HEADER = (
    lazy_gettext("Date"), lazy_gettext("Department"), lazy_gettext("Employee no."),
    lazy_gettext("Name"), lazy_gettext("Temperature (°C)"), lazy_gettext("Symptoms"),
    lazy_gettext("Stayed home"), lazy_gettext("Submitted at"), lazy_gettext("Late"),
    lazy_gettext("Stop"), lazy_gettext("Area code"), lazy_gettext("Place"),
    lazy_gettext("Arrived"), lazy_gettext("Left"), lazy_gettext("Transport"),
    lazy_gettext("Train / flight / plate"), lazy_gettext("Seat"),
)


def header() -> list[str]:
    """The column titles in the current language."""
    return [str(h) for h in HEADER]


def check_range(start: date, end: date) -> None:
    """Refuse an inverted or overly long date range."""
    if end < start:
        raise ValidationFailed("The end date must not be before the start date.",
                               fields={"to": "The end date must not be before the start date."})
    if (end - start).days >= MAX_DAYS:
        raise ValidationFailed("Export at most %(days)s days at a time.", days=MAX_DAYS,
                               fields={"to": "Export at most %(days)s days at a time."})


def rows(*, session: Session, enterprise: Enterprise, start: date, end: date,
         departments: set[uuid.UUID] | None = None,
         progress: Callable[[int], None] | None = None) -> Iterator[list[Any]]:
    """Yield export rows in date, department, employee and stop order."""
    yes, no = gettext("yes"), gettext("no")
    stmt = (select(DailyReport.report_date, Department.name, Employee.employee_no,
                   Person.name_masked, DailyReport.temperature, DailyReport.symptoms,
                   DailyReport.stayed_home, DailyReport.submitted_at, DailyReport.late,
                   ReportStop.seq, ReportStop.area_code, ReportStop.place, ReportStop.arrive_at,
                   ReportStop.depart_at, ReportStop.mode, ReportStop.ref, ReportStop.seat)
            .join(Employee, Employee.id == DailyReport.employee_id)
            .join(Person, Person.id == Employee.person_id)
            .join(Department, Department.id == DailyReport.department_id)
            .outerjoin(ReportStop, ReportStop.report_id == DailyReport.id)
            .where(DailyReport.enterprise_id == enterprise.id,
                   DailyReport.report_date >= start, DailyReport.report_date <= end)
            .order_by(DailyReport.report_date, Department.name, Employee.employee_no,
                      DailyReport.id, ReportStop.seq))
    if departments is not None:
        stmt = stmt.where(DailyReport.department_id.in_(departments))
    n = 0
    result = session.execute(stmt.execution_options(yield_per=BATCH, stream_results=True))
    for (day, dept, emp_no, name, temp, symptoms, home, submitted, late, seq, area, place,
         arrive, depart, mode, ref, seat) in result:
        yield [day.isoformat(), dept, emp_no, name, temp, ";".join(symptoms or ()),
               yes if home else no, _local(submitted), yes if late else no, seq or "",
               area or "", place or "", _local(arrive), _local(depart), mode or "",
               ref or "", seat or ""]
        n += 1
        if progress is not None and n % BATCH == 0:
            progress(BATCH)
    if progress is not None:
        progress(n % BATCH)


# China Standard Time has had no DST since 1991: a fixed offset formats much faster.
_CST = timezone(timedelta(hours=8))


def _local(value: Any) -> str:
    return value.astimezone(_CST).isoformat(" ", "minutes")[:16] if value else ""
