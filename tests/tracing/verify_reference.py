"""A small, obviously-correct verification in Python: the oracle the SQL path is checked
against (docs/tracing.md, "Verification"). One report at a time, every registration of
the person and of the sites in memory; no attempt at speed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import local_day_bounds


@dataclass(frozen=True)
class StopIn:
    seq: int
    area_code: str
    arrive_at: datetime
    depart_at: datetime | None


@dataclass(frozen=True)
class Seen:
    """A registration (instant: ended_at is None) or a stay of the person, with its area."""

    id: uuid.UUID
    area_code: str
    at: datetime
    ended_at: datetime | None = None

    def meets(self, lo: datetime, hi: datetime) -> bool:
        return self.at <= hi and (self.ended_at or self.at) >= lo


def classify(*, day: date, stops: Sequence[StopIn], registrations: Sequence[Seen],
             stays: Sequence[Seen], tolerance: timedelta,
             observable: Callable[[str, datetime, datetime], bool]
             ) -> list[tuple[str, int | None, uuid.UUID | None, dict[str, Any]]]:
    """(class, stop seq, registration or stay id, detail) for one report."""
    registrations = sorted(registrations, key=lambda s: (s.at, s.id))
    stays = sorted(stays, key=lambda s: (s.at, s.id))
    day_start, day_end = local_day_bounds(day)
    stops = sorted(stops, key=lambda s: s.seq)
    intervals = []
    for i, s in enumerate(stops):
        end = s.depart_at or (stops[i + 1].arrive_at if i + 1 < len(stops) else day_end)
        intervals.append((s.arrive_at, max(end, s.arrive_at)))
    prefixes = [significant_prefix(s.area_code) for s in stops]
    windows = [(a - tolerance, e + tolerance) for a, e in intervals]
    covered = {r.id for r in registrations
               if any(r.area_code.startswith(p) and lo <= r.at <= hi
                      for p, (lo, hi) in zip(prefixes, windows, strict=True))}
    out: list[tuple[str, int | None, uuid.UUID | None, dict[str, Any]]] = []
    cited: set[uuid.UUID] = set()
    for s, p, (arrive, end), (lo, hi) in zip(stops, prefixes, intervals, windows, strict=True):
        match = next((r for r in (*registrations, *stays)
                      if r.area_code.startswith(p) and r.meets(lo, hi)), None)
        if match is not None:
            out.append(("corroborated", s.seq, match.id, _detail(match)))
            continue
        other = next((r for r in registrations if arrive <= r.at <= end
                      and not r.area_code.startswith(p) and r.id not in covered), None)
        if other is not None:
            cited.add(other.id)
            out.append(("contradiction", s.seq, other.id, _detail(other)))
        elif observable(p, lo, hi):
            out.append(("uncorroborated", s.seq, None, {"area_code": s.area_code}))
        else:
            out.append(("unobservable", s.seq, None, {"area_code": s.area_code}))
    for r in registrations:
        if day_start <= r.at < day_end and r.id not in covered and r.id not in cited:
            out.append(("unreported_visit", None, r.id, _detail(r)))
    return out


def _detail(seen: Seen) -> dict[str, Any]:
    return {"site_area_code": seen.area_code, "at": seen.at.isoformat()}
