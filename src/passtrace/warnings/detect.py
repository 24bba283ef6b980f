"""The windowed rules, each one set-based INSERT ... SELECT per local day.

Each statement selects the day's firing subjects (one row per subject: the first
event of the day is the evidence, by row_number()), and inserts them into `alerts`
with ON CONFLICT DO NOTHING on (rule, subject, day): running a day twice, two runners
at once, or a declared area re-scanning days already scanned, creates nothing new.
Nothing here reads rows into Python, so a day of a million registrations is a handful
of statements (benchmarks/warnings.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    any_,
    cast,
    distinct,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from passtrace.audit.service import pg_cursor
from passtrace.core.clock import LOCAL_TZ, local_day_bounds, local_midnight, utcnow
from passtrace.core.db import dialect_insert
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.people.models import Person
from passtrace.registrations.lookback import ids_from
from passtrace.registrations.models import Registration
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site
from passtrace.tracing.models import Contact, ReportFinding
from passtrace.warnings.models import Alert
from passtrace.warnings.registry import Effective
from passtrace.warnings.shards import HashRange

COLUMNS = ("rule_code", "severity", "subject_kind", "subject_key", "person_hash",
           "subject_masked", "area_code", "queue_area", "day", "evidence", "status", "note",
           "escalations", "created_at")
EARTH_KM = 6371.0


def json_object(session: Session, **pairs: Any) -> ColumnElement[Any]:
    """A JSON object built in SQL (json_build_object / json_object)."""
    args: list[Any] = []
    for key, value in pairs.items():
        args += [literal(key), value]
    if session.get_bind().dialect.name == "postgresql":
        return func.json_build_object(*args)
    return func.json_object(*args)


def _seconds(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """later - earlier in seconds."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _text(session: Session, value: Any) -> ColumnElement[str]:
    """An id as the text the evidence keeps (the same on both databases)."""
    # PostgreSQL writes a UUID with dashes, SQLite as 32 hex digits: uuid.UUID reads both.
    return cast(value, String)


def _masked() -> ColumnElement[str]:
    return func.coalesce(Person.name_masked, literal(""))


def _insert(session: Session, rule: Effective, day: date, rows: Select[Any], *,
            in_key_order: bool = False) -> int:
    """INSERT the selected (subject_kind, subject_key, person_hash, masked, area, evidence)
    rows as alerts of `rule` on `day`; a (rule, subject, day) already there is skipped.
    `in_key_order`: insert by subject (many rows: each index entry on the random hash
    goes next to the one before instead of onto a random page)."""
    sub = rows.subquery()
    stmt = select(
        literal(rule.rule.code, String), literal(rule.severity, String),
        sub.c.kind, sub.c.key, sub.c.person_hash, sub.c.masked, sub.c.area, sub.c.area,
        literal(day, Date), sub.c.evidence, literal("open", String), literal("", String),
        literal(0), literal(utcnow(), Alert.__table__.c.created_at.type),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    if in_key_order:
        stmt = stmt.order_by(sub.c.key)
    insert = (dialect_insert(session)(Alert.__table__).from_select(COLUMNS, stmt)
              .on_conflict_do_nothing(index_elements=["rule_code", "subject_key", "day"]))
    # preserve_rowcount: SQLAlchemy reports an INSERT's rowcount only when asked.
    done = session.execute(insert.execution_options(preserve_rowcount=True))
    return done.rowcount or 0  # type: ignore[attr-defined]


def _first_per(partition: Sequence[Any], order: Any) -> ColumnElement[int]:
    return func.row_number().over(partition_by=list(partition), order_by=order)


def _person_rows(session: Session, base: Select[Any]) -> Select[Any]:
    """Keep the first row per person of a subquery with person_hash, area, evidence, at."""
    sub = base.add_columns(
        _first_per([base.selected_columns.person_hash], base.selected_columns.at).label("rn")
    ).subquery()
    return (select(literal("person", String).label("kind"), sub.c.person_hash.label("key"),
                   sub.c.person_hash, _masked().label("masked"), sub.c.area,
                   sub.c.evidence)
            .select_from(sub).outerjoin(Person, Person.id_hash == sub.c.person_hash)
            .where(sub.c.rn == 1))


def checkpoint_fever(session: Session, rule: Effective, day: date) -> int:
    """A temperature at or above the site's own threshold."""
    start, end = local_day_bounds(day)
    base = (select(Registration.person_hash, Site.area_code.label("area"),
                   Registration.occurred_at.label("at"),
                   json_object(session, registration=_text(session, Registration.id),
                         site=_text(session, Site.id), temperature=Registration.temperature,
                         threshold=Site.fever_threshold).label("evidence"))
            .join(Site, Site.id == Registration.site_id)
            .where(Registration.occurred_at >= start, Registration.occurred_at < end,
                   Registration.person_hash.is_not(None),
                   Registration.temperature >= Site.fever_threshold))
    return _insert(session, rule, day, _person_rows(session, base))


def report_symptoms(session: Session, rule: Effective, day: date) -> int:
    """A daily report flagged when filed (fever or any symptom)."""
    base = (select(DailyReport.person_hash, Enterprise.area_code.label("area"),
                   DailyReport.submitted_at.label("at"),
                   json_object(session, report=_text(session, DailyReport.id),
                         temperature=DailyReport.temperature).label("evidence"))
            .join(Enterprise, Enterprise.id == DailyReport.enterprise_id)
            .where(DailyReport.report_date == day, DailyReport.flagged,
                   DailyReport.person_hash.is_not(None)))
    return _insert(session, rule, day, _person_rows(session, base))


def _in_prefixes(column: Any, prefixes: Sequence[str]) -> ColumnElement[bool]:
    return or_(*[column.startswith(p, autoescape=True) for p in prefixes])


def risk_visit(session: Session, rule: Effective, day: date,
               risks: Sequence[tuple[str, str, datetime, datetime | None]]) -> int:
    """Registrations at a site in a risk area, or reported stops in one, on `day`.

    `risks` is (area_code, prefix, from, until): the daily run passes the risks in force
    that day and checks the visit fell in the risk's window; a declaration passes its
    one area with the window opened to the whole look-back (people who were there in
    the last N days are flagged now).
    """
    if not risks:
        return 0
    start, end = local_day_bounds(day)
    inserted = 0
    for code, prefix, valid_from, valid_until in risks:
        lo = max(start, valid_from)
        hi = end if valid_until is None else min(end, valid_until)
        if lo >= hi:
            continue
        sites = select(Site.id).where(Site.area_code.startswith(prefix, autoescape=True))
        at_site = (select(Registration.person_hash, literal(code, String).label("area"),
                          Registration.occurred_at.label("at"),
                          json_object(session, registration=_text(session, Registration.id),
                                site=_text(session, Registration.site_id),
                                area=literal(code, String)).label("evidence"))
                   .where(Registration.site_id.in_(sites), Registration.occurred_at >= lo,
                          Registration.occurred_at < hi,
                          Registration.person_hash.is_not(None)))
        stop = (select(DailyReport.person_hash, literal(code, String).label("area"),
                       ReportStop.arrive_at.label("at"),
                       json_object(session, report=_text(session, DailyReport.id),
                             area=literal(code, String)).label("evidence"))
                .join(DailyReport, DailyReport.id == ReportStop.report_id)
                .where(ReportStop.area_code.startswith(prefix, autoescape=True),
                       ReportStop.arrive_at >= lo, ReportStop.arrive_at < hi,
                       DailyReport.person_hash.is_not(None)))
        union = at_site.union_all(stop).subquery()
        base = select(union.c.person_hash, union.c.area, union.c.at, union.c.evidence)
        inserted += _insert(session, rule, day, _person_rows(session, base))
    return inserted


def _local_date(session: Session, at: Any) -> ColumnElement[Any]:
    """The local calendar day of a UTC time, in SQL (as 'YYYY-MM-DD' text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(LOCAL_TZ.key, at), "YYYY-MM-DD")
    # SQLite keeps UTC text; the local zone has a fixed offset (China keeps no summer
    # time), taken from the clock so both databases agree.
    ahead = datetime(2001, 1, 2, tzinfo=UTC) - local_midnight(date(2001, 1, 2))
    return func.date(at, f"{int(ahead.total_seconds()):+d} seconds")


def risk_declared(session: Session, rule: Effective, *, risk_id: str, code: str,
                  prefix: str, since: datetime, until: datetime, day: date,
                  persons: HashRange | None = None) -> int:
    """The alerts of a just-declared area's visitors (declared_rows), inserted."""
    rows = declared_rows(session, risk_id=risk_id, code=code, prefix=prefix, since=since,
                         until=until, day=day, persons=persons)
    # In hash order: 215,000 entries in uq_alerts_dedupe and ix_alerts_person, both on
    # the random hash (on a copy of 45,000 alerts: 1.7-1.9 s unordered, 1.5 s ordered).
    return _insert(session, rule, day, rows, in_key_order=True)


VISITOR_COLUMNS = ("kind", "key", "person_hash", "masked", "area", "evidence")


def copy_declared(session: Session, rows: Select[Any]) -> list[bytes]:
    """PostgreSQL: the declared_rows of a declaration as COPY text lines, one scan, to
    hand to the parts that insert them (insert_copied) on their own connections."""
    compiled = rows.compile(dialect=session.get_bind().dialect)
    session.flush()
    # No parallel workers: the parts keep both cores busy right after, and a worker's
    # CPU would escape the per-backend accounting of benchmarks/warnings.py (the
    # reported stops' scan was planned with two).
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    out: list[bytes] = []
    with pg_cursor(session) as cur, cur.copy(
            f"COPY ({compiled}) TO STDOUT", compiled.params) as copy:
        out.extend(bytes(block) for block in copy)
    # COPY's text escapes a newline inside a value, so each row is one line.
    return b"".join(out).split(b"\n")[:-1]


def insert_copied(session: Session, rule: Effective, day: date, lines: list[bytes]) -> int:
    """PostgreSQL: insert as alerts the copied declared_rows `lines` (copy_declared)."""
    if not lines:
        return 0
    name = f"declared_{secrets.token_hex(6)}"
    # For this part's transaction: the alerts are inserted in key order, and that sort
    # of a county's half (107,000 rows) spilled 46 MB to disk at the default work_mem;
    # the flags' statements after it (health.bulk) sort as many rows.
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    session.execute(text(
        f"CREATE TEMPORARY TABLE {name} (kind text, key text, person_hash text, "
        "masked text, area text, evidence json) ON COMMIT DROP"))
    session.flush()
    with pg_cursor(session) as cur, cur.copy(f"COPY {name} FROM STDIN") as copy:
        for start in range(0, len(lines), 10_000):
            copy.write(b"\n".join(lines[start:start + 10_000]) + b"\n")
    kept = Table(name, MetaData(), *[Column(c, String) for c in VISITOR_COLUMNS[:-1]],
                 Column("evidence", JSON))
    rows = select(*[kept.c[c] for c in VISITOR_COLUMNS])
    return _insert(session, rule, day, rows, in_key_order=True)


def declared_rows(session: Session, *, risk_id: str, code: str, prefix: str,
                  since: datetime, until: datetime, day: date,
                  persons: HashRange | None = None) -> Select[Any]:
    """Everyone who visited a just-declared area between `since` and `until`: ONE alert
    per person for the declaration, on the declaration's local `day`, whose evidence is
    the visits (how many, on which local days, the first one's registration or report).

    Not one alert per person and visit-day: a county declared over 14 days would put
    hundreds of thousands of rows in the officials' queue for one decision, each to be
    closed by hand, when what they act on is the person (call, test, isolate). The
    dedupe key stays (rule, subject, day): re-running the scan, two runners at once, or
    the windowed run finding the same person on the declaration day create nothing new.

    One INSERT ... SELECT: registrations at the area's sites (bounded below by id, so
    PostgreSQL reads only the window's day partitions, registrations/lookback.py) and
    reported stops in the area, grouped by person in the database. `persons`: only the
    visitors whose hash is in that range (one part of a declaration applied in parts,
    warnings/shards.py)."""
    pg = session.get_bind().dialect.name == "postgresql"
    part = persons or HashRange()
    sites = select(Site.id).where(Site.area_code.startswith(prefix, autoescape=True))
    # PostgreSQL: the area's sites as one array (an InitPlan), so each day partition is
    # read through its (site_id, occurred_at) index, only the area's rows: `IN (SELECT
    # ...)` is planned as a hash join over a sequential scan of every registration of
    # the window (a county is a twelfth of them; EXPLAIN, 2M registrations: 0.47 s of
    # CPU for the scan, 0.22 s through the index).
    # (The CAST keeps `= ANY ((SELECT array))` from reading as `= ANY (SELECT ...)`.)
    in_area = (Registration.site_id == any_(cast(select(func.array_agg(Site.id)).where(
        Site.area_code.startswith(prefix, autoescape=True)).scalar_subquery(), ARRAY(Uuid)))
        if pg else Registration.site_id.in_(sites))
    # PostgreSQL keeps the ids as uuids until the evidence is built (16 bytes, not 37 of
    # text, in each row the grouping sorts; the same order: a uuid's text is its hex).
    ident = (lambda column: column) if pg else (lambda column: _text(session, column))
    none = cast(null(), Uuid if pg else String)
    at_site = (select(Registration.person_hash.label("person_hash"),
                      Registration.occurred_at.label("at"),
                      ident(Registration.id).label("registration"),
                      ident(Registration.site_id).label("site"), none.label("report"))
               .where(in_area, Registration.id >= ids_from(since),
                      Registration.occurred_at >= since, Registration.occurred_at < until,
                      Registration.person_hash.is_not(None),
                      *part.where(Registration.person_hash, pg=pg)))
    stop = (select(DailyReport.person_hash, ReportStop.arrive_at, none, none,
                   ident(DailyReport.id))
            .join(DailyReport, DailyReport.id == ReportStop.report_id)
            .where(ReportStop.area_code.startswith(prefix, autoescape=True),
                   ReportStop.arrive_at >= since, ReportStop.arrive_at < until,
                   DailyReport.person_hash.is_not(None),
                   *part.where(DailyReport.person_hash, pg=pg)))
    union = at_site.union_all(stop).subquery("visits")
    # PostgreSQL: the local day as a date (a JSON date is its ISO text, the same as
    # _local_date's): to_char per visit was a tenth of the statement's CPU, and DISTINCT
    # then compares dates, not strings.
    local_day = (cast(func.timezone(LOCAL_TZ.key, union.c.at), Date) if pg
                 else _local_date(session, union.c.at))
    if pg:
        # For this transaction (a job's): JIT compiled this one-off statement for 1.9 s of
        # its 9 (EXPLAIN ANALYZE, 2M registrations), and its sort of a county's visits
        # spilled to disk at the default work_mem, and still at 64MB (922,000 visits at
        # 10M registrations: 79 MB written and read back, auto_explain).
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    head: dict[str, Any] = {"risk": literal(risk_id, String), "area": literal(code, String),
                            "declared": literal(day.isoformat(), String)}
    if pg:
        # One pass: grouped by person, the first visit picked by one ordered aggregate of
        # its (registration, site, report) (a window over the visits would sort them a
        # second time; an aggregate per column sorted each person's visits three times).
        # The grouping sorts by the hash's bytes (COLLATE "C": the same groups, as equal
        # hashes are equal bytes, without the locale's comparison on every step).
        order = (union.c.at, union.c.registration, union.c.report)
        firsts = type_coerce(func.array_agg(aggregate_order_by(
            array((union.c.registration, union.c.site, union.c.report)), *order)),
            ARRAY(Uuid, dimensions=2))

        def first(k: int) -> Any:
            return firsts[1][k]

        evidence = json_object(
            session, **head, visits=func.count(), days=func.json_agg(distinct(local_day)),
            registration=first(1), site=first(2), report=first(3))
        who = union.c.person_hash.collate("C")
        per = (select(who.label("person_hash"), evidence.label("evidence"))
               .group_by(who).subquery("per"))
        first_visit: Any = None
    else:
        # SQLite: totals per person, joined to the first visit (row_number()).
        per = (select(union.c.person_hash, func.count().label("n"),
                      func.json_group_array(distinct(local_day)).label("days"))
               .group_by(union.c.person_hash).subquery("per"))
        first_visit = select(union, func.row_number().over(
            partition_by=union.c.person_hash,
            order_by=(union.c.at, union.c.registration, union.c.report)).label("rn")
        ).subquery("ranked")
    if first_visit is None:
        evidence_col: Any = per.c.evidence
    else:
        evidence_col = json_object(
            session, **head, visits=per.c.n, days=func.json(per.c.days),
            registration=first_visit.c.registration, site=first_visit.c.site,
            report=first_visit.c.report)
    rows = (select(literal("person", String).label("kind"), per.c.person_hash.label("key"),
                   per.c.person_hash, _masked().label("masked"),
                   literal(code, String).label("area"), evidence_col.label("evidence"))
            .select_from(per).outerjoin(Person, Person.id_hash == per.c.person_hash))
    if first_visit is not None:
        rows = rows.join(first_visit, (first_visit.c.person_hash == per.c.person_hash)
                         & (first_visit.c.rn == 1))
    return rows


def contacts(session: Session, close: Effective, secondary: Effective, day: date) -> int:
    """Contacts found on `day`: depth 1 is a close contact, deeper a secondary one."""
    start, end = local_day_bounds(day)
    inserted = 0
    for rule, depth in ((close, Contact.depth == 1), (secondary, Contact.depth >= 2)):
        if not rule.enabled:
            continue
        base = (select(Contact.person_hash, Contact.area_code.label("area"),
                       Contact.found_at.label("at"),
                       json_object(session, contact=_text(session, Contact.id),
                             case=_text(session, Contact.case_id),
                             until=cast(Contact.quarantine_until, String)).label("evidence"))
                .where(Contact.found_at >= start, Contact.found_at < end, depth,
                       Contact.area_code != ""))
        inserted += _insert(session, rule, day, _person_rows(session, base))
    return inserted


def _reason(column: Any, *codes: str) -> ColumnElement[bool]:
    # reasons is a JSON list of codes; its text form holds each as "code" on both databases.
    text = cast(column, String)
    return or_(*[text.like(f'%"{c}"%') for c in codes])


def _denied_with(session: Session, rule: Effective, day: date, *codes: str) -> int:
    start, end = local_day_bounds(day)
    base = (select(Registration.person_hash, Site.area_code.label("area"),
                   Registration.occurred_at.label("at"),
                   json_object(session, registration=_text(session, Registration.id),
                         site=_text(session, Site.id),
                         pass_id=_text(session, Registration.pass_id)).label("evidence"))
            .join(Site, Site.id == Registration.site_id)
            .where(Registration.occurred_at >= start, Registration.occurred_at < end,
                   Registration.decision == "deny", Registration.person_hash.is_not(None),
                   _reason(Registration.reasons, *codes)))
    return _insert(session, rule, day, _person_rows(session, base))


def pass_invalid(session: Session, rule: Effective, day: date) -> int:
    """A revoked or expired pass presented (the checkpoint denied it)."""
    return _denied_with(session, rule, day, "revoked", "expired")


def pass_outside_area(session: Session, rule: Effective, day: date) -> int:
    """A pass presented at a site or area it is not valid in."""
    return _denied_with(session, rule, day, "area_not_allowed", "site_not_allowed")


def _distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> ColumnElement[float]:
    """Great-circle distance (haversine), in SQL: both databases have the math functions."""
    dlat = func.radians(lat2 - lat1) / 2.0
    dlon = func.radians(lon2 - lon1) / 2.0
    a = (func.sin(dlat) * func.sin(dlat) + func.cos(func.radians(lat1))
         * func.cos(func.radians(lat2)) * func.sin(dlon) * func.sin(dlon))
    return 2 * EARTH_KM * func.asin(func.sqrt(a))


def _pairs(session: Session, day: date, key: Any) -> Any:
    """Each registration of the day with the previous one of the same key (LAG)."""
    start, end = local_day_bounds(day)
    window = {"partition_by": key, "order_by": Registration.occurred_at}
    return (select(key.label("k"), Registration.person_hash, Registration.id,
                   Registration.site_id, Registration.occurred_at,
                   func.lag(Registration.site_id).over(**window).label("prev_site"),
                   func.lag(Registration.occurred_at).over(**window).label("prev_at"),
                   func.lag(Registration.id).over(**window).label("prev_id"))
            .where(Registration.occurred_at >= start, Registration.occurred_at < end,
                   key.is_not(None))
            .subquery())


def impossible_travel(session: Session, rule: Effective, day: date) -> int:
    """Two consecutive registrations of one person further apart than the speed bound
    allows (site coordinates; sites without them are never compared)."""
    pairs = _pairs(session, day, Registration.person_hash)
    here, there = Site.__table__.alias("here"), Site.__table__.alias("there")
    km = _distance_km(there.c.latitude, there.c.longitude, here.c.latitude, here.c.longitude)
    gap = _seconds(session, pairs.c.occurred_at, pairs.c.prev_at)
    speed = rule.params["speed_kmh"]
    base = (select(pairs.c.person_hash, here.c.area_code.label("area"),
                   pairs.c.occurred_at.label("at"),
                   json_object(session, registration=_text(session, pairs.c.id),
                         site=_text(session, pairs.c.site_id),
                         other_registration=_text(session, pairs.c.prev_id),
                         other_site=_text(session, pairs.c.prev_site),
                         km=func.round(cast(km, Numeric), 1),
                         minutes=func.round(cast(gap / 60.0, Numeric), 0),
                         speed=literal(speed)).label("evidence"))
            .join(here, here.c.id == pairs.c.site_id)
            .join(there, there.c.id == pairs.c.prev_site)
            .where(pairs.c.prev_site.is_not(None), pairs.c.prev_site != pairs.c.site_id,
                   here.c.latitude.is_not(None), there.c.latitude.is_not(None),
                   # distance / hours > speed, written without a division by a zero gap
                   km * 3600.0 > speed * gap))
    return _insert(session, rule, day, _person_rows(session, base))


def pass_two_sites(session: Session, rule: Effective, day: date) -> int:
    """The same pass at two different sites within `minutes` (a copied QR)."""
    pairs = _pairs(session, day, Registration.pass_id)
    gap = _seconds(session, pairs.c.occurred_at, pairs.c.prev_at)
    minutes = rule.params["minutes"]
    here = Site.__table__.alias("here")
    base = (select(pairs.c.person_hash, here.c.area_code.label("area"),
                   pairs.c.occurred_at.label("at"),
                   json_object(session, registration=_text(session, pairs.c.id),
                         site=_text(session, pairs.c.site_id),
                         other_registration=_text(session, pairs.c.prev_id),
                         other_site=_text(session, pairs.c.prev_site),
                         pass_id=_text(session, pairs.c.k),
                         minutes=literal(minutes)).label("evidence"))
            .join(here, here.c.id == pairs.c.site_id)
            .where(pairs.c.prev_site.is_not(None), pairs.c.prev_site != pairs.c.site_id,
                   pairs.c.person_hash.is_not(None), gap <= minutes * 60))
    return _insert(session, rule, day, _person_rows(session, base))


def missing_reports(session: Session, rule: Effective, day: date) -> int:
    """Active employees with no report on any of the K days up to `day`."""
    days = rule.params["days"]
    first = day - timedelta(days=days - 1)
    filed = (select(DailyReport.id).where(DailyReport.employee_id == Employee.id,
                                          DailyReport.report_date >= first,
                                          DailyReport.report_date <= day)
             .exists())
    rows = (select(literal("person", String).label("kind"), Person.id_hash.label("key"),
                   Person.id_hash.label("person_hash"), Person.name_masked.label("masked"),
                   Enterprise.area_code.label("area"),
                   json_object(session, employee=_text(session, Employee.id),
                         enterprise=_text(session, Enterprise.id),
                         days=literal(days)).label("evidence"))
            .join(Person, Person.id == Employee.person_id)
            .join(Enterprise, Enterprise.id == Employee.enterprise_id)
            .where(Employee.status == "active", ~filed,
                   # Only someone employed over the whole run of days can have missed it.
                   Employee.created_at < local_day_bounds(first)[0]))
    return _insert(session, rule, day, rows)


def trajectory_mismatch(session: Session, rule: Effective, day: date) -> int:
    """Verification findings: a visit left out of the report, or a contradiction."""
    base = (select(DailyReport.person_hash, Enterprise.area_code.label("area"),
                   ReportFinding.computed_at.label("at"),
                   json_object(session, report=_text(session, DailyReport.id),
                         finding=_text(session, ReportFinding.id),
                         finding_class=ReportFinding.finding_class).label("evidence"))
            .join(DailyReport, DailyReport.id == ReportFinding.report_id)
            .join(Enterprise, Enterprise.id == DailyReport.enterprise_id)
            .where(DailyReport.report_date == day, DailyReport.person_hash.is_not(None),
                   ReportFinding.finding_class.in_(("unreported_visit", "contradiction"))))
    return _insert(session, rule, day, _person_rows(session, base))

