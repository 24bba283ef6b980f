"""One place that tells the time, and the one deployment zone, so tests can move it.

Every "today", "local midnight" and "HH:MM on the gate's clock" in the code base
comes from here: the deployment's zone is China Standard Time, and a second copy
of the constant or of `local_today` is how two pages once disagreed on the date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Field staff, deadlines, curfews and opening hours all read this zone. It has had
# no daylight saving since 1991, but it is read from tzdata, never hard-coded +8.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at a moment (None thaws it); for tests and demos."""
    global _frozen
    _frozen = at


def local_today(now: datetime | None = None) -> date:
    """Today's date in the deployment's zone (at `now`, default the clock's now)."""
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def local_midnight(day: date) -> datetime:
    """The instant a local day starts, timezone-aware in the local zone."""
    return datetime.combine(day, time.min, LOCAL_TZ)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the UTC instants at which a local day starts and the next one starts."""
    start = local_midnight(day)
    return start.astimezone(UTC), local_midnight(day + timedelta(days=1)).astimezone(UTC)
