"""Same place, same time: registrations and stays of others near the index person's own.

Two steps, both set-based: first the index person's own allowed registrations and stays
in the window (the (person, time) indexes), then everyone else's at those sites around
those times, one statement per kind with one indexed range per site and time (the
(site, time) indexes). Pairs are matched exactly in Python; the candidates are few.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from passtrace.registrations.models import Registration, Stay
from passtrace.sites.models import Site

# No stay is longer than this (the per-site-kind cap is 12 h by default): a stay that
# could overlap an instant started at most this long before it, which bounds the
# (site, started_at) index range scanned.
MAX_STAY = timedelta(hours=48)
# OR-ed index ranges per statement (SQLite's expression depth stays well inside limits).
CHUNK = 200


@dataclass
class Hit:
    """One piece of evidence that `person_hash` met the index person."""

    person_hash: str
    kind: str
    site_id: uuid.UUID | None
    start: datetime
    end: datetime
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reg:
    id: uuid.UUID
    person_hash: str
    site_id: uuid.UUID
    at: datetime
    direction: str
    external_id: str | None

    def ref(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": str(self.id), "at": self.at.isoformat(),
                               "direction": self.direction}
        if self.external_id:
            out["external_id"] = self.external_id
        return out


@dataclass
class StayRow:
    id: uuid.UUID
    person_hash: str
    site_id: uuid.UUID
    start: datetime
    end: datetime
    out_id: uuid.UUID | None
    closed_by: str

    def ref(self) -> dict[str, Any]:
        return {"id": str(self.id), "from": self.start.isoformat(),
                "to": self.end.isoformat(), "closed_by": self.closed_by}


def _regs(session: Session, where: Any) -> list[Reg]:
    rows = session.execute(
        select(Registration.id, Registration.person_hash, Registration.site_id,
               Registration.occurred_at, Registration.direction, Registration.external_id)
        .where(where, Registration.decision == "allow", Registration.person_hash.is_not(None)))
    # person_hash is never NULL here (the where clause excludes it).
    return [Reg(r[0], r[1] or "", r[2], r[3], r[4], r[5]) for r in rows]


def _stays(session: Session, where: Any) -> list[StayRow]:
    rows = session.execute(
        select(Stay.id, Stay.person_hash, Stay.site_id, Stay.started_at, Stay.ended_at,
               Stay.out_registration_id, Stay.closed_by).where(where))
    return [StayRow(*r) for r in rows]


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _others_regs(session: Session, person_hash: str,
                 ranges: list[tuple[uuid.UUID, datetime, datetime]]) -> list[Reg]:
    out: dict[uuid.UUID, Reg] = {}
    for part in _chunks(ranges):
        clause = or_(*(and_(Registration.site_id == s, Registration.occurred_at >= lo,
                            Registration.occurred_at <= hi) for s, lo, hi in part))
        for r in _regs(session, and_(clause, Registration.person_hash != person_hash)):
            out[r.id] = r
    return list(out.values())


def _others_stays(session: Session, person_hash: str,
                  ranges: list[tuple[uuid.UUID, datetime, datetime]]) -> list[StayRow]:
    """Stays at a site touching [lo, hi] (started before hi, ended after lo)."""
    out: dict[uuid.UUID, StayRow] = {}
    for part in _chunks(ranges):
        clause = or_(*(and_(Stay.site_id == s, Stay.started_at >= lo - MAX_STAY,
                            Stay.started_at <= hi, Stay.ended_at >= lo) for s, lo, hi in part))
        for s in _stays(session, and_(clause, Stay.person_hash != person_hash)):
            out[s.id] = s
    return list(out.values())


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 2)


def find(session: Session, *, person_hash: str, start: datetime, end: datetime,
         window_minutes: int, overlap_minutes: Mapping[str, int]) -> list[Hit]:
    """Every same-place hit of others with `person_hash` in [start, end).

    window_minutes: W for same_site_window (a gap of exactly W counts). overlap_minutes:
    M per site kind for stay_overlap (missing kinds: 0, touching stays count).
    """
    own_regs = _regs(session, and_(Registration.person_hash == person_hash,
                                   Registration.occurred_at >= start,
                                   Registration.occurred_at < end))
    own_stays = _stays(session, and_(Stay.person_hash == person_hash,
                                     Stay.started_at >= start - MAX_STAY,
                                     Stay.started_at < end, Stay.ended_at >= start))
    if not own_regs and not own_stays:
        return []
    w = timedelta(minutes=window_minutes)
    reg_ranges = [(r.site_id, r.at - w, r.at + w) for r in own_regs]
    stay_ranges = [(s.site_id, s.start, s.end) for s in own_stays]
    others_regs = _others_regs(session, person_hash, reg_ranges + stay_ranges)
    others_stays = _others_stays(session, person_hash,
                                 stay_ranges + [(r.site_id, r.at, r.at) for r in own_regs])
    kinds = _site_kinds(session, {r.site_id for r in own_regs} | {s.site_id for s in own_stays})

    # An instant is a registration that is neither end of a stay: in/out pairs are
    # compared as stays, so they do not also count as instants inside one.
    own_stay_ends = {s.id for s in own_stays} | {s.out_id for s in own_stays if s.out_id}
    their_stay_ends = ({s.id for s in others_stays}
                       | {s.out_id for s in others_stays if s.out_id})
    hits: list[Hit] = []
    by_site: dict[uuid.UUID, list[Reg]] = {}
    for o in others_regs:
        by_site.setdefault(o.site_id, []).append(o)
    for c in own_regs:
        for o in by_site.get(c.site_id, ()):
            gap = abs(o.at - c.at)
            if gap <= w:
                hits.append(Hit(o.person_hash, "same_site_window", c.site_id,
                                min(c.at, o.at), max(c.at, o.at),
                                {"site": str(c.site_id), "case_registration": c.ref(),
                                 "contact_registration": o.ref(),
                                 "gap_minutes": _minutes(gap)}))
    stays_by_site: dict[uuid.UUID, list[StayRow]] = {}
    for s in others_stays:
        stays_by_site.setdefault(s.site_id, []).append(s)
    for c_stay in own_stays:
        need = timedelta(minutes=overlap_minutes.get(kinds.get(c_stay.site_id, ""), 0))
        for o_stay in stays_by_site.get(c_stay.site_id, ()):
            lo, hi = max(c_stay.start, o_stay.start), min(c_stay.end, o_stay.end)
            if hi >= lo and hi - lo >= need:
                hits.append(Hit(o_stay.person_hash, "stay_overlap", c_stay.site_id, lo, hi,
                                {"site": str(c_stay.site_id), "case_stay": c_stay.ref(),
                                 "contact_stay": o_stay.ref(),
                                 "overlap_minutes": _minutes(hi - lo)}))
        for o in by_site.get(c_stay.site_id, ()):
            if o.id not in their_stay_ends and c_stay.start <= o.at <= c_stay.end:
                hits.append(Hit(o.person_hash, "instant_in_stay", o.site_id, o.at, o.at,
                                {"site": str(o.site_id), "registration": o.ref(),
                                 "stay": c_stay.ref(), "stay_of": "case"}))
    for c in own_regs:
        if c.id in own_stay_ends:
            continue
        for o_stay in stays_by_site.get(c.site_id, ()):
            if o_stay.start <= c.at <= o_stay.end:
                hits.append(Hit(o_stay.person_hash, "instant_in_stay", c.site_id, c.at, c.at,
                                {"site": str(c.site_id), "registration": c.ref(),
                                 "stay": o_stay.ref(), "stay_of": "contact"}))
    return hits


def _site_kinds(session: Session, site_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not site_ids:
        return {}
    return dict(session.execute(select(Site.id, Site.kind).where(Site.id.in_(site_ids))).all())


def site_areas(session: Session, site_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each site's area code (where a contact met there is traced)."""
    if not site_ids:
        return {}
    return dict(session.execute(select(Site.id, Site.area_code)
                                .where(Site.id.in_(site_ids))).all())
