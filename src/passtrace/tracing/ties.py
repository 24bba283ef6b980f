"""Contacts that are not about a site: the household, the same train or flight, colleagues.

Seats. Daily reports accept any seat text up to 8 characters (reports.schemas.StopIn),
so a "row" is defined here, after NFKC normalisation (full-width digits become ASCII):
- a flight seat is ROW + LETTER, e.g. "12A", "3F" (the row is 12, 3);
- a train seat names its carriage first: CARRIAGE + "车" or "-" or "/" + ROW + LETTER,
  e.g. "05车12A", "5-12F", "05/012C" (carriage 5, row 12); the letter may be absent.
A seat that does not parse never makes a trip contact: without a row we cannot say
"within 3 rows", and a false contact costs a household two weeks at home.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from passtrace.communities.compounds.models import Community, Resident
from passtrace.core.clock import LOCAL_TZ, local_day_bounds
from passtrace.enterprises.models import Enterprise
from passtrace.people.models import Person
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.tracing.colocation import Hit, Source

ROW_SPAN = 3  # same trip: within this many seat rows
_FLIGHT_SEAT = re.compile(r"^(\d{1,3})([A-Z])?$")
_TRAIN_SEAT = re.compile(r"^(\d{1,2})(?:车|-|/)(\d{1,3})([A-Z])?$")


@dataclass(frozen=True)
class Seat:
    """A parsed seat: the carriage (trains only) and the row."""

    carriage: int | None
    row: int


def parse_seat(mode: str, raw: str | None) -> Seat | None:
    """The seat's carriage and row, or None when the text does not follow the formats above."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
    if mode == "train":
        m = _TRAIN_SEAT.match(text)
        return Seat(int(m.group(1)), int(m.group(2))) if m else None
    m = _FLIGHT_SEAT.match(text)
    return Seat(None, int(m.group(1))) if m else None


def _norm_ref(ref: str | None) -> str:
    return unicodedata.normalize("NFKC", ref or "").strip().upper().replace(" ", "")


def local_dates(start: datetime, end: datetime) -> list[date]:
    """The local dates the window [start, end) touches."""
    first = start.astimezone(LOCAL_TZ).date()
    last = (end - timedelta(microseconds=1)).astimezone(LOCAL_TZ).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def households(session: Session, *, index: list[tuple[uuid.UUID, datetime]],
               end: datetime) -> dict[uuid.UUID, list[tuple[Hit, str]]]:
    """The other residents of every household each person lives in, with the compound's
    area; exposure from the person's start to `end`. One statement for them all."""
    out: dict[uuid.UUID, list[tuple[Hit, str]]] = {pid: [] for pid, _ in index}
    if not index:
        return out
    starts = dict(index)
    ids = sorted(starts)
    theirs = select(Resident.household_id, Resident.person_id).where(
        Resident.person_id.in_(ids)).subquery()
    rows = session.execute(
        select(theirs.c.person_id, Person.id_hash, Resident.household_id, Community.code)
        .join(Resident, Resident.household_id == theirs.c.household_id)
        .join(Person, Person.id == Resident.person_id)
        .join(Community, Community.id == Resident.community_id)
        .where(Resident.person_id != theirs.c.person_id))
    for pid, h, hh, code in rows:
        out[pid].append((Hit(h, "household", None, starts[pid], end, {"household": str(hh)}),
                         code))
    return out


def trips_many(session: Session, *, sources: Sequence[Source],
               end: datetime) -> dict[str, list[tuple[Hit, str]]]:
    """Others on the same train (same carriage) or flight, same date, within ROW_SPAN rows,
    for each index person from their start: two statements for them all."""
    out: dict[str, list[tuple[Hit, str]]] = {s.person_hash: [] for s in sources}
    if not sources:
        return out
    dates = {s.person_hash: set(local_dates(s.start, end)) for s in sources}
    every_day = sorted(set().union(*dates.values()))
    own = [row for row in session.execute(
        select(DailyReport.person_hash, DailyReport.report_date, ReportStop.mode,
               ReportStop.ref, ReportStop.seat, ReportStop.arrive_at, DailyReport.id,
               ReportStop.seq)
        .join(ReportStop, ReportStop.report_id == DailyReport.id)
        .where(DailyReport.person_hash.in_(sorted(out)),
               DailyReport.report_date.in_(every_day),
               ReportStop.mode.in_(("train", "flight")))).all()
        if row[1] in dates[row[0] or ""]]
    # (date, mode, number) -> the index persons' parsed seats on it.
    wanted: dict[tuple[date, str, str], list[tuple[Any, ...]]] = {}
    for who, day, mode, ref, seat, arrive, report_id, seq in own:
        mine = parse_seat(mode or "", seat)
        ref_n = _norm_ref(ref)
        if mine is not None and ref_n:
            wanted.setdefault((day, mode or "", ref_n), []).append(
                (who, mine, seat, arrive, report_id, seq))
    if not wanted:
        return out
    others = session.execute(
        select(DailyReport.report_date, ReportStop.mode, DailyReport.person_hash,
               ReportStop.ref, ReportStop.seat, ReportStop.area_code, DailyReport.id,
               ReportStop.seq)
        .join(ReportStop, ReportStop.report_id == DailyReport.id)
        .where(DailyReport.report_date.in_(sorted({k[0] for k in wanted})),
               ReportStop.mode.in_(sorted({k[1] for k in wanted})),
               DailyReport.person_hash.is_not(None),
               func.upper(ReportStop.ref).in_(sorted({k[2] for k in wanted})))).all()
    for day, mode, other_hash, other_ref, other_seat, area, other_report, other_seq in others:
        theirs = parse_seat(mode or "", other_seat)
        ref_n = _norm_ref(other_ref)
        if theirs is None:
            continue
        for who, mine, seat, arrive, report_id, seq in wanted.get((day, mode or "", ref_n), ()):
            if (other_hash == who or theirs.carriage != mine.carriage
                    or abs(theirs.row - mine.row) > ROW_SPAN):
                continue
            out[who].append((Hit(other_hash or "", "same_train" if mode == "train"
                                 else "same_flight", None, arrive, arrive,
                                 {"ref": ref_n, "date": day.isoformat(), "case_seat": seat,
                                  "contact_seat": other_seat,
                                  "case_report": str(report_id), "case_stop": seq,
                                  "contact_report": str(other_report),
                                  "contact_stop": other_seq}),
                            area))
    return out


def colleagues(session: Session, *, person_hash: str, start: datetime,
               end: datetime) -> list[tuple[Hit, str]]:
    """Others of the same department who filed a report, not at home, on the same workday."""
    days = [d for d in local_dates(start, end) if d.weekday() < 5]
    if not days:
        return []
    own = session.execute(
        select(DailyReport.department_id, DailyReport.report_date)
        .where(DailyReport.person_hash == person_hash, DailyReport.report_date.in_(days),
               DailyReport.stayed_home.is_(False))).all()
    if not own:
        return []
    rows = session.execute(
        select(DailyReport.person_hash, DailyReport.department_id, DailyReport.report_date,
               Enterprise.area_code)
        .join(Enterprise, Enterprise.id == DailyReport.enterprise_id)
        .where(or_(*(and_(DailyReport.department_id == dep, DailyReport.report_date == day)
                     for dep, day in own)),
               DailyReport.stayed_home.is_(False), DailyReport.person_hash.is_not(None),
               DailyReport.person_hash != person_hash)).all()
    out: list[tuple[Hit, str]] = []
    for other_hash, dep, day, area in rows:
        lo, hi = local_day_bounds(day)
        out.append((Hit(other_hash or "", "colleague", None, max(lo, start), min(hi, end),
                        {"department": str(dep), "date": day.isoformat()}), area))
    return out
