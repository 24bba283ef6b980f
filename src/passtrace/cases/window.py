"""The exposure window: its default from the case's dates, and per-case edits, in local days.

A window is the half-open interval [start, end) of UTC instants. Officials think in
local days (Asia/Shanghai, core.clock), so a window always starts and ends at a local
midnight, except a default whose end is "now" (no isolation date yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from passtrace.cases.models import WINDOW_DAYS_BEFORE
from passtrace.core.clock import local_day_bounds, local_today, utcnow
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_

# Longer windows are a typing mistake (a wrong year), and would make the timeline and the
# contact search read months of data for one case.
MAX_WINDOW_DAYS = 60

NEED_ONSET = N_("Enter the date symptoms started.")
NEED_SAMPLING = N_("Enter the sampling date: an asymptomatic case's window starts from it.")
NOT_IN_FUTURE = N_("This date is in the future.")
ISOLATION_TOO_EARLY = N_("The isolation date is before the exposure window starts "
                         "(two days before onset or sampling).")
END_BEFORE_START = N_("The window must end on or after the day it starts.")
TOO_LONG = N_("The window can be at most %(days)s days long.")
BOTH_ENDS = N_("Give both the first and the last day of the window.")


@dataclass(frozen=True)
class CaseDates:
    """The dates a default window is computed from."""

    classification: str
    onset_date: date | None
    sampling_date: date | None
    isolation_date: date | None


def anchor_field(classification: str) -> str:
    """Which date the window starts from: sampling for an asymptomatic case, else onset."""
    return "sampling_date" if classification == "asymptomatic" else "onset_date"


def check_dates(d: CaseDates, *, today: date | None = None) -> None:
    """Refuse missing anchors, dates after today, and an isolation before the window."""
    today = today or local_today()
    field = anchor_field(d.classification)
    anchor = getattr(d, field)
    if anchor is None:
        msg = NEED_SAMPLING if field == "sampling_date" else NEED_ONSET
        raise ValidationFailed(msg, fields={field: msg})
    for name in ("onset_date", "sampling_date"):
        value = getattr(d, name)
        if value is not None and value > today:
            raise ValidationFailed(NOT_IN_FUTURE, fields={name: NOT_IN_FUTURE})
    if d.isolation_date is not None and \
            d.isolation_date < anchor - timedelta(days=WINDOW_DAYS_BEFORE):
        raise ValidationFailed(ISOLATION_TOO_EARLY, fields={"isolation_date": ISOLATION_TOO_EARLY})


def default_window(d: CaseDates, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Onset (asymptomatic: sampling) - 2 days, local midnight ... the end of the isolation
    date (the next local midnight), or now while there is none."""
    check_dates(d, today=local_today(now))
    anchor = getattr(d, anchor_field(d.classification))
    start, _ = local_day_bounds(anchor - timedelta(days=WINDOW_DAYS_BEFORE))
    if d.isolation_date is not None:
        _, end = local_day_bounds(d.isolation_date)
    else:
        end = max(now or utcnow(), start + timedelta(minutes=1))
    return start, end


def from_days(first: date, last: date) -> tuple[datetime, datetime]:
    """An edited window: from the first day's local midnight to the end of the last day."""
    if last < first:
        raise ValidationFailed(END_BEFORE_START, fields={"window_end": END_BEFORE_START})
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise ValidationFailed(TOO_LONG, days=MAX_WINDOW_DAYS,
                               fields={"window_end": TOO_LONG})
    start, _ = local_day_bounds(first)
    _, end = local_day_bounds(last)
    return start, end


def check_length(start: datetime, end: datetime) -> None:
    """A default window is bounded like an edited one (a wrong year in a date)."""
    if end - start > timedelta(days=MAX_WINDOW_DAYS + 1):
        raise ValidationFailed(TOO_LONG, days=MAX_WINDOW_DAYS,
                               fields={"isolation_date": TOO_LONG})


def last_day(end: datetime) -> date:
    """The last local day a window covers (its end is exclusive)."""
    return local_today(end - timedelta(microseconds=1))
