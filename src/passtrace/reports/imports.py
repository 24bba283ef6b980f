"""Daily reports from other systems: `passtrace reports import FILE.jsonl`.

One report a line: {"external_id", "id_number", "date", "temperature"?, "stops":
[{"area_code", "arrive", "leave"?, "place"?, "transport"?}]}. `transport` is a mode
("train") or {"mode", "ref"?, "seat"?}, checked as a filed report's. An imported report
has no employer (employee, enterprise and department are NULL; dashboards, which filter
by enterprise, never show it): it carries the person's keyed ID hash and its
external id, for trajectory verification and contact tracing.

A person this server does not know yet becomes a protected person record (keyed hash,
ciphertext, mask; no name, unproofed): nothing about their identity is defined by
the import. Every line is checked first; any refused line stores nothing unless the
valid lines are asked for. Idempotent by external_id.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import dialect_insert
from passtrace.core.errors import TooLarge, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.imports import Problem
from passtrace.core.pii import PiiVault
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number
from passtrace.people.models import Person
from passtrace.people.service import protected_columns
from passtrace.reports import rules
from passtrace.reports.models import FEVER_AT, DailyReport, ReportStop
from passtrace.reports.rules import CleanStop
from passtrace.reports.schemas import StopIn

MAX_BYTES = 64 * 1_048_576
SOURCE = "import"
KEYS = frozenset({"external_id", "id_number", "date", "temperature", "stops"})
STOP_KEYS = frozenset({"area_code", "arrive", "leave", "place", "transport"})
NOT_OBJECT = N_("This line is not a JSON object.")
UNKNOWN_KEY = N_("Unknown field %(field)s.")
BAD_EXTERNAL_ID = N_("The external id is missing or longer than 64 characters.")
SAME_EXTERNAL_ID = N_("The same external id is already on line %(row)s.")
BAD_DATE = N_("The date must be YYYY-MM-DD.")
BAD_STOPS = N_("stops must be a list of at most 20 places.")
BAD_STOP = N_("Stop %(n)s is not valid: it needs area_code and arrive (ISO 8601 with its "
              "UTC offset), and may have leave, place and transport.")


@dataclass
class ReportImport:
    """What a reports import did (nothing was stored unless committed)."""

    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    refused: int = 0
    people: int = 0
    committed: bool = False
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Report:
    line: int
    external_id: str
    id_number: str
    day: date
    temperature: float | None
    stops: list[CleanStop]


def _stop(raw: object) -> StopIn:
    if not isinstance(raw, dict) or not set(raw) <= STOP_KEYS:
        raise ValueError
    transport = raw.get("transport")
    if isinstance(transport, str):
        transport = {"mode": transport}
    elif transport is not None and not isinstance(transport, dict):
        raise ValueError
    transport = transport or {}
    return StopIn.model_validate({
        "area_code": raw.get("area_code"), "place": raw.get("place") or "",
        "arrive_at": raw.get("arrive"), "depart_at": raw.get("leave"),
        "mode": transport.get("mode"), "ref": transport.get("ref"),
        "seat": transport.get("seat")})


def _check(session: Session, line: int, raw: Any, now: datetime,
           problems: list[Problem]) -> _Report | None:
    """One line's report, or None with its problems appended."""
    if not isinstance(raw, dict):
        problems.append(Problem(line, "", NOT_OBJECT))
        return None
    before = len(problems)
    for key in sorted(set(raw) - KEYS):
        problems.append(Problem(line, key, UNKNOWN_KEY, {"field": key}))
    external_id = raw.get("external_id")
    if not isinstance(external_id, str) or not 0 < len(external_id.strip()) <= 64 \
            or not external_id.isprintable():
        problems.append(Problem(line, "external_id", BAD_EXTERNAL_ID))
        external_id = ""
    id_number = raw.get("id_number")
    if not isinstance(id_number, str) or not id_number.strip():
        problems.append(Problem(line, "id_number", N_("The ID number is empty.")))
    else:
        try:
            id_number = validate_id_number(id_number)
        except InvalidValue as exc:
            problems.append(Problem(line, "id_number", exc.message))
    day = None
    with contextlib.suppress(ValueError):
        day = date.fromisoformat(raw["date"]) if isinstance(raw.get("date"), str) else None
    if day is None:
        problems.append(Problem(line, "date", BAD_DATE))
    temperature = raw.get("temperature")
    if temperature is not None:
        try:
            if temperature.__class__ not in (int, float):
                raise rules.fail("temperature", N_("A body temperature between 34.0 and "
                                                   "42.5 °C, please."))
            temperature = rules.validate_temperature(float(temperature))
        except ValidationFailed as exc:
            problems.append(Problem(line, "temperature", exc.message, exc.params))
    stops_raw = raw.get("stops", [])
    stops: list[StopIn] = []
    if not isinstance(stops_raw, list) or len(stops_raw) > 20:
        problems.append(Problem(line, "stops", BAD_STOPS))
    else:
        for n, item in enumerate(stops_raw, start=1):
            try:
                stops.append(_stop(item))
            except (ValueError, ValidationError):
                problems.append(Problem(line, f"stops[{n - 1}]", BAD_STOP, {"n": n}))
    if len(problems) > before or day is None:
        return None
    try:
        clean = rules.validate_stops(session, stops, day, now, require_mode=False)
    except ValidationFailed as exc:
        problems += [Problem(line, column, message, exc.params)
                     for column, message in exc.fields.items()]
        return None
    return _Report(line, external_id.strip(), str(id_number), day, temperature, clean)


def _lines(data: bytes) -> list[tuple[int, bytes]]:
    if len(data) > MAX_BYTES:
        raise TooLarge("The file is too large (at most %(mb)s MB).", mb=MAX_BYTES // 1_048_576)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text.") from None
    lines = [(n, line) for n, line in enumerate(data.removeprefix(b"\xef\xbb\xbf")
                                                .splitlines(), start=1) if line.strip()]
    if not lines:
        raise ValidationFailed("The file is empty.")
    return lines


def import_reports(*, session: Session, vault: PiiVault, actor: Principal | None,
                   data: bytes, import_valid: bool = False) -> ReportImport:
    """Check every line, then store all or nothing (or the valid lines when asked).

    Raises ValidationFailed / TooLarge, before anything is stored, for a file that
    cannot be read.
    """
    now = utcnow()
    result = ReportImport()
    reports: list[_Report] = []
    seen: dict[str, int] = {}
    for line, text in _lines(data):
        result.rows += 1
        try:
            raw = orjson.loads(text)
        except orjson.JSONDecodeError:
            raw = None
        problems: list[Problem] = []
        report = _check(session, line, raw, now, problems)
        if report is not None and report.external_id in seen:
            problems.append(Problem(line, "external_id", SAME_EXTERNAL_ID,
                                    {"row": seen[report.external_id]}))
            report = None
        if report is None:
            result.refused += 1
            result.problems += problems
            continue
        seen[report.external_id] = line
        reports.append(report)
    if result.problems and not import_valid:
        return result
    result.committed = True
    _write(session, vault, actor, reports, now, result)
    return result


def _write(session: Session, vault: PiiVault, actor: Principal | None,
           reports: list[_Report], now: datetime, result: ReportImport) -> None:
    hashes = {r.id_number: vault.lookup_hash(r.id_number) for r in reports}
    known: dict[str, uuid.UUID | None] = {}
    wanted = list(set(hashes.values()))
    for i in range(0, len(wanted), 500):
        known.update((digest, pid) for digest, pid in session.execute(
            select(Person.id_hash, Person.id).where(Person.id_hash.in_(wanted[i:i + 500]))))
    ins = dialect_insert(session)
    for number, digest in hashes.items():
        if digest in known:
            continue
        # Race: two imports (or a sign-up) may add the same person at once; the unique
        # id_hash decides, and the loser's row is simply not inserted.
        added = session.execute(ins(Person).values(
            id=uuid7(), created_at=now, status="green",
            **protected_columns(vault, number, "", None, id_hash=digest))
            .on_conflict_do_nothing(index_elements=["id_hash"]).returning(Person.id)).scalar()
        result.people += added is not None
        # Lost the race: the winner's row is there to read.
        known[digest] = added or session.scalar(select(Person.id).where(
            Person.id_hash == digest))
    # Whose reports were stored: each person sees the import in their own access log.
    subjects: list[tuple[object, uuid.UUID | None]] = []
    for r in reports:
        # Race: the same file imported twice at once; the unique external_id lets one
        # insert win and the other count the report as already there.
        report_id = session.execute(ins(DailyReport).values(
            id=uuid7(), employee_id=None, enterprise_id=None, department_id=None,
            filed_by=actor.user_id if actor is not None else None, report_date=r.day,
            temperature=r.temperature, symptoms=[], stayed_home=False, source=SOURCE,
            submitted_at=now, late=False,
            flagged=r.temperature is not None and r.temperature >= FEVER_AT,
            person_hash=hashes[r.id_number], external_id=r.external_id)
            .on_conflict_do_nothing(index_elements=["external_id"])
            .returning(DailyReport.id)).scalar()
        if report_id is None:
            result.unchanged += 1
            continue
        result.imported += 1
        subjects.append((report_id, known.get(hashes[r.id_number])))
        if r.stops:
            session.execute(insert(ReportStop), [
                {"report_id": report_id, "seq": seq, "area_code": s.area_code,
                 "place": s.place, "arrive_at": s.arrive_at, "depart_at": s.depart_at,
                 "mode": s.mode, "ref": s.ref, "seat": s.seat}
                for seq, s in enumerate(r.stops, start=1)])
    audit_service.record(session=session, actor=actor, action="report.import",
                         resource_type="daily_report",
                         detail={"rows": result.rows, "imported": result.imported,
                                 "unchanged": result.unchanged, "refused": result.refused,
                                 "people": result.people})
    # One entry per person in one INSERT (the summary above is the official's view).
    audit_service.record_reads(session=session, actor=actor, action="report.import",
                               resource_type="daily_report", people=subjects,
                               detail={"source": SOURCE})
