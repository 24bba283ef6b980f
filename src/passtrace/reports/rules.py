"""Validation of a daily report: health values, stop times, tickets and seats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.areas.models import Area
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.validators import InvalidValue, validate_plate
from passtrace.reports.schemas import StopIn

TEMP_MIN, TEMP_MAX = 34.0, 42.5
# session.info key: areas already read in this session (code -> Area).
AREAS_SEEN = "trajectories.areas_seen"
TRAIN_RE = re.compile(r"^(?:[GDCZTKYLS]\d{1,4}|\d{4})$")
# Two-character IATA airline designator (letters, or a digit and a letter as in 3U / G5),
# then a 1-4 digit flight number.
FLIGHT_RE = re.compile(r"^(?:[A-Z]{2}|\d[A-Z]|[A-Z]\d)\d{1,4}$")
TRAIN_SEAT_RE = re.compile(r"^(\d{1,2})(?:车|-)(\d{1,3}[A-F]?|无座)号?$")
FLIGHT_SEAT_RE = re.compile(r"^(\d{1,2})([A-HJ-K])$")


def fail(field: str, message: str, **params: Any) -> ValidationFailed:
    """Build a validation error naming one field."""
    return ValidationFailed(message, fields={field: message}, **params)


def validate_train_number(raw: str) -> str:
    """Validate a train number such as G1234, D21, K9 or 6063."""
    value = raw.strip().upper()
    if not TRAIN_RE.match(value):
        raise InvalidValue("A train number is a letter G, D, C, Z, T, K, Y, L or S and 1 to 4 "
                           "digits, or 4 digits (e.g. G1234).")
    return value


def validate_flight_number(raw: str) -> str:
    """Validate a flight number such as CA1832, 3U8888 or MU5101."""
    value = raw.strip().upper().replace(" ", "")
    if not FLIGHT_RE.match(value):
        raise InvalidValue("A flight number is a 2-character airline code and 1 to 4 digits "
                           "(e.g. CA1832, 3U8888).")
    return value


def validate_train_seat(raw: str) -> str:
    """Validate a train seat such as 05车12F (car 5, seat 12F) or 5-12F."""
    value = raw.strip().upper().replace(" ", "")
    m = TRAIN_SEAT_RE.match(value)
    if not m:
        raise InvalidValue("A train seat is the car and the seat, e.g. 05车12F or 5-12F.")
    return f"{int(m.group(1)):02d}-{m.group(2)}"


def validate_flight_seat(raw: str) -> str:
    """Validate a flight seat such as 32A."""
    value = raw.strip().upper()
    if not FLIGHT_SEAT_RE.match(value):
        raise InvalidValue("A flight seat is a row number and a letter, e.g. 32A.")
    return value


def validate_temperature(value: float) -> float:
    """Check a body temperature is plausible and keep one decimal."""
    if not TEMP_MIN <= value <= TEMP_MAX:
        raise fail("temperature", N_("A body temperature between 34.0 and 42.5 °C, please."))
    return round(value, 1)


def validate_date(day: date, today: date, backfill_days: int) -> date:
    """Refuse future dates and dates too far back."""
    if day > today:
        raise fail("report_date", N_("The report date cannot be in the future."))
    if day < today - timedelta(days=backfill_days):
        raise fail("report_date", N_("Reports can be filed at most %(days)s days back."),
                   days=backfill_days)
    return day


@dataclass
class CleanStop:
    """A validated stop, ready to store."""

    area_code: str
    place: str
    arrive_at: datetime
    depart_at: datetime | None
    mode: str | None
    ref: str | None
    seat: str | None


# How far ahead of the server a phone's clock may be before a time counts as future.
CLOCK_DRIFT = timedelta(minutes=5)


def _aware(field: str, value: datetime, n: int, day: date, now: datetime) -> datetime:
    if value.tzinfo is None:
        raise fail(field, N_("Stop %(n)s: times need a time zone (e.g. +08:00)."), n=n)
    if not 2000 <= value.year <= 2100:
        raise fail(field, N_("Stop %(n)s: the time must be on the report date."), n=n)
    local = value.astimezone(LOCAL_TZ)
    start = datetime.combine(day, datetime.min.time(), LOCAL_TZ)
    if not start <= local <= start + timedelta(days=1):
        raise fail(field, N_("Stop %(n)s: the time must be on the report date."), n=n)
    return value


def _ticket(i: int, n: int, stop: StopIn) -> tuple[str | None, str | None]:
    mode, ref, seat = stop.mode, (stop.ref or "").strip(), (stop.seat or "").strip()
    try:
        if mode == "car":
            if not ref:
                raise fail(f"stops[{i}].ref", N_("Stop %(n)s: enter the car's plate."), n=n)
            return validate_plate(ref), None
        if mode == "train":
            if not ref:
                raise fail(f"stops[{i}].ref", N_("Stop %(n)s: enter the train number."), n=n)
            number = validate_train_number(ref)
            return number, validate_train_seat(seat) if seat else None
        if mode == "flight":
            if not ref:
                raise fail(f"stops[{i}].ref", N_("Stop %(n)s: enter the flight number."), n=n)
            number = validate_flight_number(ref)
            return number, validate_flight_seat(seat) if seat else None
    except InvalidValue as exc:
        field = "seat" if "seat" in exc.message else "ref"
        raise fail(f"stops[{i}].{field}", exc.message) from None
    return None, None


def validate_stops(session: Session, stops: list[StopIn], day: date,
                   now: datetime, *, require_mode: bool = True) -> list[CleanStop]:
    """Check each stop and the day's order; return them cleaned.

    require_mode=False accepts a stop without the transport that led to it: a report
    imported from another system (reports.imports) often never recorded it.
    """
    clean: list[CleanStop] = []
    for i, stop in enumerate(stops):
        n = i + 1
        arrive = _aware(f"stops[{i}].arrive_at", stop.arrive_at, n, day, now)
        depart = (_aware(f"stops[{i}].depart_at", stop.depart_at, n, day, now)
                  if stop.depart_at else None)
        # A report says where one has been: a stop still to come (07:30–20:00 filed at
        # 00:41) is a plan, not a trace. A phone's clock may run a few minutes behind.
        if arrive > now + CLOCK_DRIFT:
            raise fail(f"stops[{i}].arrive_at",
                       N_("Stop %(n)s: the arrival is still to come; report places you have "
                          "been to."), n=n)
        if depart is not None and depart > now + CLOCK_DRIFT:
            raise fail(f"stops[{i}].depart_at",
                       N_("Stop %(n)s: you have not left yet; leave the departure empty or "
                          "report it once you have left."), n=n)
        if depart is not None and depart < arrive:
            raise fail(f"stops[{i}].depart_at",
                       N_("Stop %(n)s: the departure must not be before the arrival."), n=n)
        if clean:
            prev = clean[-1]
            if prev.depart_at is None:
                raise fail(f"stops[{i - 1}].depart_at",
                           N_("Stop %(n)s: only the last stop may have no departure time."),
                           n=n - 1)
            if arrive < prev.depart_at:
                raise fail(f"stops[{i}].arrive_at",
                           N_("Stop %(n)s: the arrival must not be before leaving the previous "
                              "stop."), n=n)
            if stop.mode is None and require_mode:
                raise fail(f"stops[{i}].mode",
                           N_("Stop %(n)s: how did you get here from the previous stop?"), n=n)
        elif stop.mode is not None:
            raise fail(f"stops[{i}].mode",
                       N_("Stop %(n)s: the first stop of the day has no transport before it."),
                       n=n)
        ref, seat = _ticket(i, n, stop)
        clean.append(CleanStop(area_code=stop.area_code, place=stop.place.strip(),
                               arrive_at=arrive, depart_at=depart, mode=stop.mode, ref=ref,
                               seat=seat))
    codes = {s.area_code for s in clean}
    if codes:
        # Whole rows, not just codes, kept with the session: the answer names the
        # places without asking the database again (see present.to_read).
        rows = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(codes)))}
        session.info.setdefault(AREAS_SEEN, {}).update(rows)
        found = set(rows)
        for i, s in enumerate(clean):
            if s.area_code not in found:
                raise fail(f"stops[{i}].area_code",
                           N_("Stop %(n)s: unknown area code %(area)s."), n=i + 1,
                           area=s.area_code)
    return clean
