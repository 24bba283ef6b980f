"""Export reports with their stops: one row per stop, streamed from the database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from passtrace.core.clock import LOCAL_TZ
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import gettext, lazy_gettext
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people.models import PersonClaim
from passtrace.reports import present
from passtrace.reports.models import DailyReport, ReportStop

MAX_DAYS = 92
BATCH = 10_000
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


def batches(*, session: Session, enterprise: Enterprise, start: date, end: date,
            departments: set[uuid.UUID] | None = None,
            progress: Callable[[int], None] | None = None) -> Iterator[list[Sequence[Any]]]:
    """Yield export rows in batches, in date, department, employee and stop order.

    On PostgreSQL the rows come straight from a server-side cursor, already
    formatted by the query (local times, yes/no, joined symptoms), so Python only
    passes tuples to csv.writer; elsewhere through the ORM. Both give the same cells.
    """
    if session.get_bind().dialect.name == "postgresql":
        source = _pg_batches(session, enterprise, start, end, departments)
    else:
        source = _orm_batches(session, enterprise, start, end, departments)
    for batch in source:
        yield batch
        if progress is not None:
            progress(len(batch))


def exported_people(*, session: Session, enterprise: Enterprise, start: date, end: date,
                    departments: set[uuid.UUID] | None = None
                    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(employee, person) of everyone whose reports an export carries: one query, so each
    of them can be told in their access log (the rows themselves stream later)."""
    stmt = (select(Employee.id, Employee.person_id).distinct()
            .join(DailyReport, DailyReport.employee_id == Employee.id)
            .where(DailyReport.enterprise_id == enterprise.id,
                   DailyReport.report_date >= start, DailyReport.report_date <= end))
    if departments is not None:
        stmt = stmt.where(DailyReport.department_id.in_(list(departments)))
    return [(eid, pid) for eid, pid in session.execute(stmt)]


def rows(*, session: Session, enterprise: Enterprise, start: date, end: date,
         departments: set[uuid.UUID] | None = None,
         progress: Callable[[int], None] | None = None) -> Iterator[Sequence[Any]]:
    """Yield export rows one by one (for writers that take a row at a time)."""
    for batch in batches(session=session, enterprise=enterprise, start=start, end=end,
                         departments=departments, progress=progress):
        yield from batch


_PG_SQL = """
SELECT to_char(r.report_date, 'YYYY-MM-DD'), d.name, e.employee_no, coalesce(c.name_masked, ''),
       r.temperature::float8,
       CASE WHEN r.symptoms::text = '[]' THEN ''
            ELSE array_to_string(ARRAY(SELECT {symptom}
                                       FROM json_array_elements_text(r.symptoms) AS x), ';')
       END,
       CASE WHEN r.stayed_home THEN %(yes)s ELSE %(no)s END,
       to_char(r.submitted_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI'),
       CASE WHEN r.late THEN %(yes)s ELSE %(no)s END,
       s.seq, coalesce(s.area_code, ''), coalesce(s.place, ''),
       coalesce(to_char(s.arrive_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI'), ''),
       coalesce(to_char(s.depart_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI'), ''),
       {mode}, coalesce(s.ref, ''), coalesce(s.seat, '')
FROM daily_reports r
JOIN employees e ON e.id = r.employee_id
LEFT JOIN person_claims c ON c.person_id = e.person_id AND c.source_kind = 'enterprise'
  AND c.source_id = e.enterprise_id
JOIN departments d ON d.id = r.department_id
LEFT JOIN report_stops s ON s.report_id = r.id
WHERE r.enterprise_id = %(ent)s AND r.report_date >= %(start)s AND r.report_date <= %(end)s
  {departments}
ORDER BY r.report_date, d.name, e.employee_no, r.id, s.seq
"""


def _case(column: str, prefix: str, labels: dict[str, Any], params: dict[str, Any]) -> str:
    """A CASE that turns stored codes into their translated labels (bound, not inlined)."""
    whens = []
    for i, (code, label) in enumerate(labels.items()):
        params[f"{prefix}{i}_code"], params[f"{prefix}{i}_label"] = code, str(label)
        whens.append(f"WHEN %({prefix}{i}_code)s THEN %({prefix}{i}_label)s")
    return f"CASE {column} {' '.join(whens)} ELSE coalesce({column}, '') END"


def _pg_batches(session: Session, enterprise: Enterprise, start: date, end: date,
                departments: set[uuid.UUID] | None) -> Iterator[list[Sequence[Any]]]:
    params: dict[str, Any] = {"yes": gettext("yes"), "no": gettext("no"),
                              "ent": enterprise.id, "start": start, "end": end,
                              "tz": LOCAL_TZ.key}
    where = ""
    if departments is not None:
        where = "AND r.department_id = ANY(%(departments)s)"
        params["departments"] = list(departments)
    # The session's own connection and transaction: a named (server-side) cursor
    # streams the result BATCH rows per round trip without holding it in memory.
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor(name=f"report_export_{uuid.uuid4().hex}") as cur:
        cur.itersize = BATCH
        # Labels, not codes: an export is read by people ("火车", not "train").
        sql = _PG_SQL.format(departments=where,
                             mode=_case("s.mode", "m", present.MODE_LABELS, params),
                             symptom=_case("x", "s", present.SYMPTOM_LABELS, params))
        cur.execute(sql, params)
        while batch := cur.fetchmany(BATCH):
            yield batch


def _orm_batches(session: Session, enterprise: Enterprise, start: date, end: date,
                 departments: set[uuid.UUID] | None) -> Iterator[list[Sequence[Any]]]:
    yes, no = gettext("yes"), gettext("no")
    modes = {k: str(v) for k, v in present.MODE_LABELS.items()}
    symptom_names = {k: str(v) for k, v in present.SYMPTOM_LABELS.items()}
    stmt = (select(DailyReport.report_date, Department.name, Employee.employee_no,
                   func.coalesce(PersonClaim.name_masked, ""), DailyReport.temperature,
                   DailyReport.symptoms,
                   DailyReport.stayed_home, DailyReport.submitted_at, DailyReport.late,
                   ReportStop.seq, ReportStop.area_code, ReportStop.place, ReportStop.arrive_at,
                   ReportStop.depart_at, ReportStop.mode, ReportStop.ref, ReportStop.seat)
            .join(Employee, Employee.id == DailyReport.employee_id)
            # The name HR listed (its claim), never the person registry's.
            .outerjoin(PersonClaim, and_(PersonClaim.person_id == Employee.person_id,
                                         PersonClaim.source_kind == "enterprise",
                                         PersonClaim.source_id == Employee.enterprise_id))
            .join(Department, Department.id == DailyReport.department_id)
            .outerjoin(ReportStop, ReportStop.report_id == DailyReport.id)
            .where(DailyReport.enterprise_id == enterprise.id,
                   DailyReport.report_date >= start, DailyReport.report_date <= end)
            .order_by(DailyReport.report_date, Department.name, Employee.employee_no,
                      DailyReport.id, ReportStop.seq))
    if departments is not None:
        stmt = stmt.where(DailyReport.department_id.in_(departments))
    result = session.execute(stmt.execution_options(yield_per=BATCH, stream_results=True))
    for part in result.partitions():
        # Enterprise reports always carry a temperature (only imported ones may not).
        yield [(day.isoformat(), dept, emp_no, name, float(temp) if temp is not None else "",
                ";".join(symptom_names.get(x, x) for x in symptoms or ()),
                yes if home else no, _local(submitted), yes if late else no, seq,
                area or "", place or "", _local(arrive), _local(depart),
                modes.get(mode, mode or ""), ref or "", seat or "")
               for (day, dept, emp_no, name, temp, symptoms, home, submitted, late, seq, area,
                    place, arrive, depart, mode, ref, seat) in part]


# China Standard Time has had no DST since 1991: a fixed offset formats much faster.
_CST = timezone(timedelta(hours=8))


def _local(value: Any) -> str:
    return value.astimezone(_CST).isoformat(" ", "minutes")[:16] if value else ""
