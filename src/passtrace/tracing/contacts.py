"""Find a case's contacts with their evidence and keep them in case_contacts.

The search is pure reading (`gather`); `run` stores the result, one row per (case,
person hash), so re-running it changes nothing and a tracing task keeps pointing at
its contact. docs/tracing.md lists the evidence kinds and their fields.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.db import lock_row
from passtrace.people.models import Person
from passtrace.tracing import colocation, ties
from passtrace.tracing.colocation import Hit
from passtrace.tracing.models import QUARANTINE_DAYS, Contact

DEFAULT_DEPTH = 2  # secondary contacts, when asked for, go this deep unless told


@dataclass(frozen=True)
class Options:
    """How to search: W (None: the case's), M per site kind, colleagues, quarantine days."""

    window_minutes: int | None = None
    overlap_minutes: Mapping[str, int] = field(default_factory=dict)
    colleagues: bool = False
    quarantine_days: int = QUARANTINE_DAYS


@dataclass
class Found:
    """One person's exposures to the index person, merged."""

    person_hash: str
    evidence: list[dict[str, Any]]
    first: datetime
    last: datetime
    area_code: str
    kind: str


def gather(session: Session, *, person_hash: str, person_id: uuid.UUID | None,
           start: datetime, end: datetime, window_minutes: int,
           options: Options) -> dict[str, Found]:
    """Everyone exposed to `person_hash` in [start, end), by person hash, with evidence."""
    hits = colocation.find(session, person_hash=person_hash, start=start, end=end,
                           window_minutes=window_minutes,
                           overlap_minutes=options.overlap_minutes)
    areas = colocation.site_areas(session, {h.site_id for h in hits if h.site_id})
    placed: list[tuple[Hit, str]] = [(h, areas.get(h.site_id, "") if h.site_id else "")
                                     for h in hits]
    placed += ties.household(session, person_id=person_id, start=start, end=end)
    placed += ties.trips(session, person_hash=person_hash, start=start, end=end)
    if options.colleagues:
        placed += ties.colleagues(session, person_hash=person_hash, start=start, end=end)
    out: dict[str, Found] = {}
    for hit, area in placed:
        ev = {"kind": hit.kind, **hit.evidence}
        f = out.get(hit.person_hash)
        if f is None:
            out[hit.person_hash] = Found(hit.person_hash, [ev], hit.start, hit.end, area,
                                         "general" if hit.kind == "colleague" else "close")
            continue
        f.evidence.append(ev)
        f.first = min(f.first, hit.start)
        # The area of the last exposure: where the contact most recently was near the case.
        if hit.end > f.last or (hit.end == f.last and area and area < f.area_code):
            f.last, f.area_code = hit.end, area or f.area_code
        if hit.kind != "colleague":
            f.kind = "close"
    for f in out.values():
        # A stable order, so storing the same result again compares equal.
        f.evidence = sorted({json.dumps(e, sort_keys=True): e for e in f.evidence}.values(),
                            key=lambda e: json.dumps(e, sort_keys=True))
    return out


def quarantine_until(last: datetime, days: int) -> date:
    """The last exposure's local date plus the quarantine days."""
    return last.astimezone(LOCAL_TZ).date() + timedelta(days=days)


def run(*, session: Session, case: Case, options: Options, depth: int = 1) -> list[Contact]:
    """Search and store the case's contacts (depth > 1: secondary ones too); idempotent."""
    # Two officials pressing "find contacts" at once would both read "no row yet" for a
    # person and both insert: lock the case so the second run waits (PostgreSQL) or is
    # refused as busy (SQLite), then re-reads the rows the first one stored.
    lock_row(session, Case, case.id)
    w = options.window_minutes if options.window_minutes is not None else case.window_minutes
    found = gather(session, person_hash=case.person_hash, person_id=case.person_id,
                   start=case.window_start, end=case.window_end, window_minutes=w,
                   options=options)
    found.pop(case.person_hash, None)
    existing = {c.person_hash: c for c in session.scalars(
        select(Contact).where(Contact.case_id == case.id))}
    stored = _store(session, case, found, existing, depth=1, via=None,
                    days=options.quarantine_days)
    frontier = [c for c in stored if c.kind == "close"]
    this_run = list(stored)
    for level in range(2, depth + 1):
        frontier = _secondary(session, case, frontier, existing, level, w, options)
        this_run += frontier
    # What this search found. A contact stored by an earlier, wider search stays stored
    # (its tracing task may be under way) but is not part of this answer.
    return sorted({c.id: c for c in this_run}.values(),
                  key=lambda c: (c.depth, c.first_exposure, c.person_hash))


def _secondary(session: Session, case: Case, frontier: list[Contact],
               existing: dict[str, Contact], level: int, w: int,
               options: Options) -> list[Contact]:
    """Contacts of the previous level's contacts, exposed after they were."""
    nxt: list[Contact] = []
    plain = Options(overlap_minutes=options.overlap_minutes,
                    quarantine_days=options.quarantine_days)
    for parent in frontier:
        found = gather(session, person_hash=parent.person_hash, person_id=parent.person_id,
                       start=parent.first_exposure, end=case.window_end, window_minutes=w,
                       options=plain)
        found = {h: f for h, f in found.items()
                 if h != case.person_hash and (h not in existing
                                               or existing[h].depth >= level)}
        for f in found.values():
            f.kind = "secondary"
        nxt += _store(session, case, found, existing, depth=level, via=parent.id,
                      days=options.quarantine_days)
    return nxt


def _store(session: Session, case: Case, found: dict[str, Found],
           existing: dict[str, Contact], *, depth: int, via: uuid.UUID | None,
           days: int) -> list[Contact]:
    if not found:
        return []
    people = dict(session.execute(select(Person.id_hash, Person.id)
                                  .where(Person.id_hash.in_(list(found)))).all())
    now = utcnow()
    out: list[Contact] = []
    for h, f in sorted(found.items()):
        values: dict[str, Any] = {
            "person_id": people.get(h), "kind": f.kind, "depth": depth,
            "via_contact_id": via, "first_exposure": f.first, "last_exposure": f.last,
            "quarantine_until": quarantine_until(f.last, days), "area_code": f.area_code,
            "evidence": f.evidence}
        row = existing.get(h)
        if row is None:
            row = Contact(id=uuid.uuid4(), case_id=case.id, person_hash=h, found_at=now,
                          **values)
            session.add(row)
            existing[h] = row
        else:
            for k, v in values.items():
                if getattr(row, k) != v:  # untouched rows are not written at all
                    setattr(row, k, v)
        out.append(row)
    session.flush()
    return out
