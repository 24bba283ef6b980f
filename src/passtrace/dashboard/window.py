"""The dashboard's time window and the registration id range that bounds it.

Registrations are partitioned by their UUIDv7 id on PostgreSQL (one partition per UTC
day, registrations/partitions.py): a filter on an id range is what lets the planner
skip every other day. The id's time is the device clock when it made the id, which is
the clock occurred_at is read from too, so the two agree to the millisecond on every
write path; SLACK widens the id range on both sides for a device whose id and
occurrence were taken apart (an offline row re-made at upload). occurred_at still
decides what is counted: the id range only prunes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from passtrace.core.clock import local_day_bounds, local_today

HOURS = 24
SLACK = timedelta(hours=1)


def id_floor(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 of `moment`'s millisecond: every id made at or after it is >=."""
    ms = int(moment.astimezone(UTC).timestamp() * 1000) & ((1 << 48) - 1)
    return uuid.UUID(int=ms << 80 | 0x7 << 76 | 0b10 << 62)


@dataclass(frozen=True)
class Window:
    """The last 24 whole hours up to the current one; "today" is the local day so far."""

    start: datetime  # UTC, on the hour: the first hourly bucket
    end: datetime  # UTC: now
    today_start: datetime  # UTC instant of local midnight (within the window)

    @property
    def hours(self) -> list[datetime]:
        """The start (UTC) of each hourly bucket, oldest first."""
        return [self.start + timedelta(hours=i) for i in range(HOURS)]

    @property
    def id_low(self) -> uuid.UUID:
        return id_floor(self.start - SLACK)

    @property
    def id_high(self) -> uuid.UUID:
        return id_floor(self.end + SLACK)

    def bucket(self, moment: datetime) -> int | None:
        """The index of the hourly bucket a moment falls in, None outside the window."""
        i = int((moment - self.start).total_seconds() // 3600)
        return i if 0 <= i < HOURS else None


def window(now: datetime) -> Window:
    """The window ending at `now` (UTC)."""
    now = now.astimezone(UTC)
    top = now.replace(minute=0, second=0, microsecond=0)
    today_start, _ = local_day_bounds(local_today(now))
    return Window(start=top - timedelta(hours=HOURS - 1), end=now, today_start=today_start)
