"""Lane statistics for a site's staff and officials: throughput, speed, denials, sync."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.clock import LOCAL_TZ, local_day_bounds
from passtrace.registrations.models import Registration
from passtrace.sites.models import DeviceSync, Site

# Two people at one lane further apart than this were not a queue: not a service time.
QUEUE_GAP = timedelta(minutes=5)


@dataclass
class LaneStats:
    """One lane's figures for the day."""

    lane: str
    persons: int = 0
    median_seconds: float | None = None


@dataclass
class DeviceState:
    """A device's offline queue as last reported."""

    device_key: str
    pending: int
    last_seen_at: datetime
    last_sync_at: datetime | None
    # How the page names it: the site's Nth phone (in the order first seen), who used it
    # last and since when, never the browser's key.
    number: int = 0
    actor_user_id: uuid.UUID | None = None
    first_seen_at: datetime | None = None


@dataclass
class SiteStats:
    """A site's day: persons per hour, lanes, denials by reason, unsynced devices."""

    day: date
    total: int = 0
    allowed: int = 0
    denied: int = 0
    overridden: int = 0
    future_flagged: int = 0  # timed after the server received them: a clock ran ahead
    per_hour: list[int] = field(default_factory=lambda: [0] * 24)
    lanes: list[LaneStats] = field(default_factory=list)
    denials_by_reason: list[tuple[str, int]] = field(default_factory=list)
    devices: list[DeviceState] = field(default_factory=list)

    @property
    def unsynced(self) -> list[DeviceState]:
        """Devices that still hold registrations they have not uploaded."""
        return [d for d in self.devices if d.pending > 0]


def site_stats(*, session: Session, site: Site, day: date) -> SiteStats:
    """Compute a site's statistics for one local day."""
    start, end = local_day_bounds(day)
    rows = session.execute(
        select(Registration.occurred_at, Registration.lane, Registration.decision,
               Registration.reasons, Registration.override_reason,
               Registration.future_flagged)
        .where(Registration.site_id == site.id, Registration.occurred_at >= start,
               Registration.occurred_at < end)
        .order_by(Registration.occurred_at)).all()
    out = SiteStats(day=day, total=len(rows))
    reasons: Counter[str] = Counter()
    by_lane: dict[str, list[datetime]] = defaultdict(list)
    for occurred_at, lane, decision, row_reasons, override_reason, future in rows:
        out.per_hour[occurred_at.astimezone(LOCAL_TZ).hour] += 1
        out.future_flagged += future
        by_lane[lane].append(occurred_at)
        if override_reason:
            out.overridden += 1
        if decision == "allow":
            out.allowed += 1
        else:
            out.denied += 1
        if decision == "deny" or override_reason:
            reasons.update(row_reasons)
    for lane in sorted(set(site.lanes) | set(by_lane)):
        times = by_lane.get(lane, [])
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)
                if b - a <= QUEUE_GAP]
        out.lanes.append(LaneStats(lane=lane, persons=len(times),
                                   median_seconds=round(statistics.median(gaps), 1)
                                   if gaps else None))
    out.denials_by_reason = reasons.most_common()
    known = session.scalars(select(DeviceSync).where(DeviceSync.site_id == site.id)
                            .order_by(DeviceSync.id))
    out.devices = sorted((DeviceState(device_key=d.device_key, pending=d.pending,
                                      last_seen_at=d.last_seen_at, last_sync_at=d.last_sync_at,
                                      number=n, actor_user_id=d.operator_user_id,
                                      first_seen_at=d.first_seen_at)
                          for n, d in enumerate(known, start=1)),
                         key=lambda d: -d.pending)
    return out
