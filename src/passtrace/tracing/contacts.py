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

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.db import lock_row
from passtrace.people.models import Person
from passtrace.tracing import colocation, ties
from passtrace.tracing.colocation import Hit
from passtrace.tracing.models import QUARANTINE_DAYS, Contact

DEFAULT_DEPTH = 2  # secondary contacts, when asked for, go this deep unless told
PEOPLE_CHUNK = 1000  # person hashes looked up per statement


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
    via: uuid.UUID | None = None  # the contact they were found through (secondary)


@dataclass(frozen=True)
class Index:
    """An index person: the case's, or a contact whose own contacts are looked for."""

    person_hash: str
    person_id: uuid.UUID | None
    start: datetime


def gather(session: Session, *, person_hash: str, person_id: uuid.UUID | None,
           start: datetime, end: datetime, window_minutes: int,
           options: Options) -> dict[str, Found]:
    """Everyone exposed to `person_hash` in [start, end), by person hash, with evidence."""
    return gather_many(session, index=[Index(person_hash, person_id, start)], end=end,
                       window_minutes=window_minutes, options=options)[person_hash]


def gather_many(session: Session, *, index: list[Index], end: datetime, window_minutes: int,
                options: Options) -> dict[str, dict[str, Found]]:
    """`gather` for several index persons at once, each from its own start: a fixed number
    of statements whatever their number (secondary contacts search a whole level)."""
    sources = [colocation.Source(i.person_hash, i.start) for i in index]
    hits = colocation.find_many(session, sources=sources, end=end,
                                window_minutes=window_minutes,
                                overlap_minutes=options.overlap_minutes)
    households = ties.households(session, index=[(i.person_id, i.start) for i in index
                                                 if i.person_id is not None], end=end)
    trips = ties.trips_many(session, sources=sources, end=end)
    out: dict[str, dict[str, Found]] = {}
    for i in index:
        placed: list[tuple[Hit, str]] = [(h, h.area) for h in hits[i.person_hash]]
        placed += households.get(i.person_id, []) if i.person_id is not None else []
        placed += trips[i.person_hash]
        if options.colleagues:
            placed += ties.colleagues(session, person_hash=i.person_hash, start=i.start,
                                      end=end)
        out[i.person_hash] = _merge(placed)
    return out


def _merge(placed: list[tuple[Hit, str]]) -> dict[str, Found]:
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
        if len(f.evidence) > 1:
            # A stable order, so storing the same result again compares equal.
            keyed = {json.dumps(e, sort_keys=True): e for e in f.evidence}
            f.evidence = [keyed[k] for k in sorted(keyed)]
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
    stored = _store(session, case, found, existing, depth=1, days=options.quarantine_days)
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
    """Contacts of the previous level's contacts, exposed after they were.

    One search for the whole level. A person reached through several contacts of the
    level is kept through the one exposed first (then the lowest person hash), and a
    person already known at a lower depth keeps that depth.
    """
    if not frontier:
        return []
    plain = Options(overlap_minutes=options.overlap_minutes,
                    quarantine_days=options.quarantine_days)
    found_by = gather_many(session, index=[Index(p.person_hash, p.person_id, p.first_exposure)
                                           for p in frontier],
                           end=case.window_end, window_minutes=w, options=plain)
    chosen: dict[str, Found] = {}
    for parent in sorted(frontier, key=lambda c: (c.first_exposure, c.person_hash)):
        for h, f in found_by[parent.person_hash].items():
            if h == case.person_hash or h in chosen or (h in existing
                                                        and existing[h].depth < level):
                continue
            f.kind, f.via = "secondary", parent.id
            chosen[h] = f
    return _store(session, case, chosen, existing, depth=level,
                  days=options.quarantine_days)


def _store(session: Session, case: Case, found: dict[str, Found],
           existing: dict[str, Contact], *, depth: int, days: int) -> list[Contact]:
    if not found:
        return []
    hashes = sorted(found)
    people: dict[str, uuid.UUID] = {}
    for i in range(0, len(hashes), PEOPLE_CHUNK):
        people.update(session.execute(select(Person.id_hash, Person.id).where(
            Person.id_hash.in_(hashes[i:i + PEOPLE_CHUNK]))).all())
    now = utcnow()
    out: list[Contact] = []
    new: list[dict[str, Any]] = []
    for h in hashes:
        f = found[h]
        values: dict[str, Any] = {
            "person_id": people.get(h), "kind": f.kind, "depth": depth,
            "via_contact_id": f.via, "first_exposure": f.first, "last_exposure": f.last,
            "quarantine_until": quarantine_until(f.last, days), "area_code": f.area_code,
            "evidence": f.evidence}
        row = existing.get(h)
        if row is None:
            values.update(id=uuid.uuid4(), case_id=case.id, person_hash=h, found_at=now)
            new.append(values)
            # Written by the one bulk INSERT below (thousands of secondary contacts
            # through the unit of work cost ~1 ms each); the object is not attached.
            row = Contact(**values)
            existing[h] = row
        else:
            for k, v in values.items():
                if getattr(row, k) != v:  # untouched rows are not written at all
                    setattr(row, k, v)
        out.append(row)
    session.flush()
    if new:
        session.execute(insert(Contact), new)
    return out
