"""Outing rules of a compound, as pure functions of the rules and the clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from passtrace.core.clock import LOCAL_TZ
from passtrace.core.i18n import gettext, ngettext

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class OutingRules:
    """A compound's rules; None means the rule does not apply."""

    max_out_per_household: int | None = None
    outings_per_window: int | None = None
    window_days: int = 1
    curfew_start: str | None = None
    curfew_end: str | None = None
    max_out_minutes: int | None = None


def rules_of(c: object) -> OutingRules:
    """Read the rules off a Community row (or anything with the same fields)."""
    return OutingRules(**{f: getattr(c, f) for f in OutingRules.__dataclass_fields__})


def in_curfew(rules: OutingRules, now: datetime) -> bool:
    """Tell whether local time is within curfew; a window may wrap midnight (22:00-06:00)."""
    if not rules.curfew_start or not rules.curfew_end:
        return False
    local = now.astimezone(LOCAL_TZ).time()
    start, end = time.fromisoformat(rules.curfew_start), time.fromisoformat(rules.curfew_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def window_start(rules: OutingRules, now: datetime) -> datetime:
    """Start of the quota window: local midnight window_days - 1 days before today.

    "One outing every two days" counts outings since yesterday's midnight, so the
    quota renews at a time residents can predict (midnight), not mid-afternoon.
    """
    local = now.astimezone(LOCAL_TZ)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=max(rules.window_days, 1) - 1)


def week_start(now: datetime) -> datetime:
    """Local Monday 00:00 of this week (for "outings per household this week")."""
    local = now.astimezone(LOCAL_TZ)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=midnight.weekday())


def due_back(rules: OutingRules, out_at: datetime) -> datetime | None:
    """When an outing becomes overdue, if the compound limits time out."""
    if rules.max_out_minutes is None:
        return None
    return out_at + timedelta(minutes=rules.max_out_minutes)


def summary(rules: OutingRules) -> list[str]:
    """The rules as translated one-liners (gate result screen, manager and resident pages)."""
    lines = []
    if rules.max_out_per_household is not None:
        lines.append(ngettext("At most %(num)s member of a household out at a time.",
                              "At most %(num)s members of a household out at a time.",
                              rules.max_out_per_household))
    if rules.outings_per_window is not None:
        lines.append(gettext("%(outings)s outing(s) per household every %(days)s day(s).",
                             outings=rules.outings_per_window, days=rules.window_days))
    if rules.curfew_start and rules.curfew_end:
        lines.append(gettext("Curfew %(start)s-%(end)s: no going out.",
                             start=rules.curfew_start, end=rules.curfew_end))
    if rules.max_out_minutes is not None:
        lines.append(gettext("Back within %(minutes)s minutes, or overdue.",
                             minutes=rules.max_out_minutes))
    return lines
