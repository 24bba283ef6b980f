"""Find a case's contacts with their evidence and keep them in case_contacts.

The search is pure reading (`gather`); `run` stores the result, one row per (case,
person hash), so re-running it changes nothing and a tracing task keeps pointing at
its contact. docs/tracing.md lists the evidence kinds and their fields.
"""

from __future__ import annotations

import heapq
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import ColumnElement, Text, cast, or_, select, type_coerce
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.db import dialect_insert, lock_row
from passtrace.people.models import Person
from passtrace.tracing import colocation, level_store, ties
from passtrace.tracing.colocation import Hit
from passtrace.tracing.models import OUTSIDE_KINDS, QUARANTINE_DAYS, Contact

DEFAULT_DEPTH = 2  # secondary contacts, when asked for, go this deep unless told
EXAMPLES = 3  # evidence items a secondary contact keeps (the earliest), beside its counts
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
    # Secondary contacts: evidence items per kind; `evidence` then holds EXAMPLES of them.
    counts: dict[str, int] | None = None


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
                options: Options, summary: bool = False) -> dict[str, dict[str, Found]]:
    """`gather` for several index persons at once, each from its own start: a fixed number
    of statements whatever their number (secondary contacts search a whole level).

    summary: each person's evidence in summary (`summarize`), not every item."""
    sources = [colocation.Source(i.person_hash, i.start) for i in index]
    summed: dict[str, dict[str, colocation.Summary]] = {}
    if summary and session.get_bind().dialect.name == "postgresql":
        # Summarized by the database: no row per item comes back (thousands of secondary
        # contacts, tens of thousands of items per level).
        summed = colocation.summaries_pg(session, sources=sources, end=end,
                                         window_minutes=window_minutes,
                                         overlap_minutes=options.overlap_minutes,
                                         examples=EXAMPLES)
        hits: dict[str, list[Hit]] = {s.person_hash: [] for s in sources}
    else:
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
        out[i.person_hash] = (summarize(placed, summed.get(i.person_hash))
                              if summary else _merge(placed))
    return out


def _merge(placed: list[tuple[Hit, str]]) -> dict[str, Found]:
    out: dict[str, Found] = {}
    # Each person's items by their text (json.dumps with sorted keys; same-place hits
    # carry it already, `Hit.key`): the order they are kept in, duplicates once.
    keyed: dict[str, dict[str, dict[str, Any]]] = {}
    for hit, area in placed:
        ev = {"kind": hit.kind, **hit.evidence}
        key = hit.key if hit.key is not None else json.dumps(ev, sort_keys=True)
        f = out.get(hit.person_hash)
        if f is None:
            out[hit.person_hash] = Found(hit.person_hash, [], hit.start, hit.end, area,
                                         "general" if hit.kind == "colleague" else "close")
            keyed[hit.person_hash] = {key: ev}
            continue
        keyed[hit.person_hash][key] = ev
        f.first = min(f.first, hit.start)
        # The area of the last exposure: where the contact most recently was near the case.
        if hit.end > f.last or (hit.end == f.last and area and area < f.area_code):
            f.last, f.area_code = hit.end, area or f.area_code
        if hit.kind != "colleague":
            f.kind = "close"
    for h, f in out.items():
        # A stable order, so storing the same result again compares equal.
        items = keyed[h]
        f.evidence = [items[k] for k in sorted(items)]
    return out


def summarize(placed: list[tuple[Hit, str]],
              summed: Mapping[str, colocation.Summary] | None = None) -> dict[str, Found]:
    """Like `_merge`, but each person keeps the number of items per kind and the EXAMPLES
    earliest items (same-place ones as `colocation.example` writes them), not every one.

    summed: same-place exposures already summarized by the database, by person.
    """
    parts: dict[str, colocation.Summary] = {
        h: colocation.Summary(dict(x.counts), x.first, x.last, x.area, list(x.examples))
        for h, x in (summed or {}).items()}
    for hit, area in placed:
        item = (colocation.example(hit.kind, hit.site_id, hit.start, hit.end)
                if hit.site_id is not None else {"kind": hit.kind, **hit.evidence})
        x = parts.get(hit.person_hash)
        if x is None:
            parts[hit.person_hash] = colocation.Summary(
                {hit.kind: 1}, hit.start, hit.end, area, [(hit.start, hit.end, hit.kind, item)])
            continue
        x.counts[hit.kind] = x.counts.get(hit.kind, 0) + 1
        x.first = min(x.first, hit.start)
        if hit.end > x.last or (hit.end == x.last and area and area < x.area):
            x.last, x.area = hit.end, area or x.area
        x.examples.append((hit.start, hit.end, hit.kind, item))
    out: dict[str, Found] = {}
    for h, x in parts.items():
        close = any(k != "colleague" for k in x.counts)
        out[h] = Found(h, _earliest(x.examples), x.first, x.last, x.area,
                       "close" if close else "general", counts=dict(sorted(x.counts.items())))
    return out


def _earliest(items: list[tuple[datetime, datetime, str, dict[str, Any]]]
              ) -> list[dict[str, Any]]:
    """The EXAMPLES earliest items (start, end, kind); ties in the order of their text, so
    a re-run keeps the same examples whatever order the rows came in."""
    if len(items) > EXAMPLES:
        edge = heapq.nsmallest(EXAMPLES, items, key=lambda x: x[:3])[-1][:3]
        items = [x for x in items if x[:3] <= edge]
    items = sorted(items, key=lambda x: x[:3])
    if any(a[:3] == b[:3] for a, b in zip(items, items[1:], strict=False)):
        # Only ties need their text (a depth-2 level wrote it for every one of 20k
        # items: a fifth of the level's Python time).
        items.sort(key=lambda x: (*x[:3], json.dumps(x[3], sort_keys=True)))
    return [x[3] for x in items[:EXAMPLES]]


def quarantine_until(last: datetime, days: int) -> date:
    """The last exposure's local date plus the quarantine days."""
    return last.astimezone(LOCAL_TZ).date() + timedelta(days=days)


def run(*, session: Session, case: Case, options: Options, depth: int = 1) -> list[Contact]:
    """Search and store the case's contacts (depth > 1: secondary ones too); idempotent.

    The stored rows of this search, nearest first (`search_and_store` without reading
    them back, for callers that need only the ids)."""
    found = search_and_store(session=session, case=case, options=options, depth=depth)
    return load(session, [c.id for c in found])


def load(session: Session, ids: list[uuid.UUID]) -> list[Contact]:
    """The contacts with these ids, in this order."""
    rows: dict[uuid.UUID, Contact] = {}
    for i in range(0, len(ids), PEOPLE_CHUNK):
        rows.update((c.id, c) for c in session.scalars(
            select(Contact).where(Contact.id.in_(ids[i:i + PEOPLE_CHUNK]))))
    return [rows[i] for i in ids if i in rows]


@dataclass(frozen=True)
class Stored:
    """What a search stored for one person (or found stored already), without evidence."""

    id: uuid.UUID
    person_hash: str
    person_id: uuid.UUID | None
    kind: str
    depth: int
    first_exposure: datetime
    area_code: str
    # Close now, and not close before this search: it needs a tracing task.
    newly_close: bool = False
    # Stored by this transaction for the first time: its id is new, so no task can
    # point at it yet (tasks.ensure inserts its task without a conflict check).
    new: bool = False


class _Old(NamedTuple):
    """A stored contact as a search compares with it: its values, and its evidence as the
    text stored, not parsed (a commuter's re-run read back 779 rows, ~0.9 MB of JSON, to
    compare them with what it found). Parsed only for outside evidence (`_outside`). A
    tuple, so that `_store` compares the values in one step (`_old_values`)."""

    person_hash: str
    id: uuid.UUID
    # level_store.UPDATED without the evidence, in that order:
    person_id: uuid.UUID | None
    kind: str
    depth: int
    via_contact_id: uuid.UUID | None
    first_exposure: datetime
    last_exposure: datetime
    quarantine_until: date
    area_code: str
    evidence_counts: dict[str, int] | None
    evidence_text: str


# The compared values' fields (all but the evidence, compared as text) and their place.
_COMPARED = tuple(n for n in level_store.UPDATED if n != "evidence")
assert _Old._fields[2:-1] == _COMPARED


def _old_values(old: _Old) -> tuple[Any, ...]:
    return old[2:-1]


def _stored(session: Session, case_id: uuid.UUID) -> dict[str, Any]:
    """The case's stored contacts by person hash (`_Old`), without parsing their evidence."""
    cols = [Contact.person_hash, Contact.id, *(getattr(Contact, n) for n in _COMPARED),
            cast(Contact.evidence, Text)]
    return {r[0]: _Old._make(r) for r in session.execute(
        select(*cols).where(Contact.case_id == case_id))}


def _evidence_text(evidence: list[dict[str, Any]], pg: bool) -> str:
    """The evidence as it is written to the database: PostgreSQL keeps the text sent
    (`_upsert_pg`, orjson), SQLite the text SQLAlchemy's JSON type writes (json.dumps). A
    stored row whose text is the same holds the same evidence; one written another way
    (a level's statement, older code) only compares unequal here, and the upsert's WHERE
    then compares the values and writes nothing."""
    return orjson.dumps(evidence).decode() if pg else json.dumps(evidence)


def search_and_store(*, session: Session, case: Case, options: Options,
                     depth: int = 1) -> list[Stored]:
    """Search the case's contacts and write only what differs from the stored rows.

    A re-run that finds nothing new writes no contact row: each level is one INSERT ...
    ON CONFLICT DO UPDATE whose WHERE skips rows equal to what is stored.
    """
    # Two officials pressing "find contacts" at once would both read "no row yet" for a
    # person and both insert: lock the case so the second run waits (PostgreSQL) or is
    # refused as busy (SQLite), then re-reads the rows the first one stored.
    lock_row(session, Case, case.id)
    w = options.window_minutes if options.window_minutes is not None else case.window_minutes
    found = gather(session, person_hash=case.person_hash, person_id=case.person_id,
                   start=case.window_start, end=case.window_end, window_minutes=w,
                   options=options)
    found.pop(case.person_hash, None)
    # What is stored, as plain rows (no ORM objects, evidence as text): compared with
    # what was found, so that only the rows that differ are sent at all.
    existing = _stored(session, case.id)
    stored = _store(session, case, found, existing, depth=1, days=options.quarantine_days)
    frontier = [c for c in stored if c.kind == "close"]
    this_run = list(stored)
    for level in range(2, depth + 1):
        frontier = _secondary(session, case, frontier, existing, level, w, options)
        this_run += frontier
    # What this search found. A contact stored by an earlier, wider search stays stored
    # (its tracing task may be under way) but is not part of this answer.
    # Once each (a person has one row per case, so one hash is one id; str hashes in C).
    return sorted({c.person_hash: c for c in this_run}.values(),
                  key=lambda c: (c.depth, c.first_exposure, c.person_hash))


def _secondary(session: Session, case: Case, frontier: list[Stored],
               existing: dict[str, Any], level: int, w: int,
               options: Options) -> list[Stored]:
    """Contacts of the previous level's contacts, exposed after they were.

    One search for the whole level. A person reached through several contacts of the
    level is kept through the one exposed first (then the lowest person hash), and a
    person already known at a lower depth keeps that depth. Their evidence is kept in
    summary (`summarize`): thousands of secondary contacts each exposed many times
    would otherwise store tens of thousands of items per run.
    """
    if not frontier:
        return []
    plain = Options(overlap_minutes=options.overlap_minutes,
                    quarantine_days=options.quarantine_days)
    # In the order parents are tried below (colocation.summaries_pg keeps each person
    # under the first parent of this order it met).
    frontier = sorted(frontier, key=lambda c: (c.first_exposure, c.person_hash))
    if session.get_bind().dialect.name == "postgresql":
        return _secondary_pg(session, case, frontier, existing, level, w, plain)
    found_by = gather_many(session, index=[Index(p.person_hash, p.person_id, p.first_exposure)
                                           for p in frontier],
                           end=case.window_end, window_minutes=w, options=plain,
                           summary=True)
    chosen = _chosen(case, frontier, found_by, existing, level)
    return _store(session, case, chosen, existing, depth=level,
                  days=options.quarantine_days)


def _chosen(case: Case, frontier: list[Stored], found_by: Mapping[str, Mapping[str, Found]],
            existing: dict[str, Any], level: int) -> dict[str, Found]:
    """Each person once, through the first parent (in frontier order) that found them;
    not the case's person, nor one known at a lower depth."""
    chosen: dict[str, Found] = {}
    for parent in frontier:
        for h, f in found_by.get(parent.person_hash, {}).items():
            if h == case.person_hash or h in chosen or (h in existing
                                                        and existing[h].depth < level):
                continue
            f.kind, f.via = "secondary", parent.id
            chosen[h] = f
    return chosen


def _secondary_pg(session: Session, case: Case, frontier: list[Stored],
                  existing: dict[str, Any], level: int, w: int,
                  options: Options) -> list[Stored]:
    """`_secondary` on PostgreSQL: the level is searched and stored by one statement
    (`level_store`), by the same rules; only the persons it cannot finish alone (met in
    a household or on a trip too, or holding outside evidence) are stored from here."""
    sources = [colocation.Source(p.person_hash, p.first_exposure) for p in frontier]
    households = ties.households(session, index=[(p.person_id, p.first_exposure)
                                                 for p in frontier
                                                 if p.person_id is not None], end=case.window_end)
    trips = ties.trips_many(session, sources=sources, end=case.window_end)
    placed: dict[str, list[tuple[Hit, str]]] = {
        p.person_hash: [*(households.get(p.person_id, []) if p.person_id is not None else []),
                        *trips[p.person_hash]] for p in frontier}
    # A stored row with outside evidence is close at depth 1 (merge_outside), so never
    # stored at a deeper level; handed to Python anyway should one ever be.
    in_python = {hit.person_hash for hits in placed.values() for hit, _ in hits} | {
        h for h, r in existing.items() if r.depth >= level and _has_outside(r)}
    stored, summed = level_store.store_level(
        session, case_id=case.id, case_hash=case.person_hash, sources=sources,
        via=[p.id for p in frontier], in_python=sorted(in_python), end=case.window_end,
        window_minutes=w, overlap_minutes=options.overlap_minutes, examples=EXAMPLES,
        level=level, days=options.quarantine_days, now=utcnow())
    out: list[Stored] = []
    for h, cid, pid, first, area in stored:
        row = Stored(cid, h, pid, "secondary", level, first, area)
        existing[h] = row
        out.append(row)
    # The rest as _secondary stores them: summarized with their ties, by parent.
    found_by = {p.person_hash: summarize(placed[p.person_hash], summed.get(p.person_hash))
                for p in frontier if placed[p.person_hash] or p.person_hash in summed}
    chosen = _chosen(case, frontier, found_by, existing, level)
    return out + _store(session, case, chosen, existing, depth=level,
                        days=options.quarantine_days)


def _has_outside(row: Any) -> bool:
    return bool(_outside(row))


def _outside(old: Any) -> list[dict[str, Any]]:
    """The stored row's evidence items found outside the search (OUTSIDE_KINDS); its text
    is parsed only when it names such a kind."""
    text = getattr(old, "evidence_text", None)
    if not text or not any(kind in text for kind in OUTSIDE_KINDS):
        return []
    return [e for e in json.loads(text) if e.get("kind") in OUTSIDE_KINDS]


def _people(session: Session, hashes: list[str]) -> dict[str, uuid.UUID]:
    if not hashes:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        with _cursor(session) as cur:
            cur.execute("SELECT id_hash, id FROM people WHERE id_hash = ANY(%s)", (hashes,))
            return dict(cur.fetchall())
    people: dict[str, uuid.UUID] = {}
    for i in range(0, len(hashes), PEOPLE_CHUNK):
        people.update(session.execute(select(Person.id_hash, Person.id).where(
            Person.id_hash.in_(hashes[i:i + PEOPLE_CHUNK]))).all())
    return people


def _store(session: Session, case: Case, found: dict[str, Found],
           existing: dict[str, Any], *, depth: int, days: int) -> list[Stored]:
    """Upsert the level's contacts in one statement (per UPSERT_CHUNK rows)."""
    if not found:
        return []
    hashes = sorted(found)
    people = {h: existing[h].person_id for h in hashes if h in existing}
    pg = session.get_bind().dialect.name == "postgresql"
    if not pg:
        people |= _people(session, [h for h in hashes if h not in people])
    # PostgreSQL: a new contact's person record is looked up by the upsert itself
    # (`_PG_UPSERT`, which returns it), not by a statement of its own first: one round
    # trip less per level, and no Python dict of 30k hashes for a commuter's depth 2.
    now = utcnow()
    rows: list[dict[str, Any]] = []
    made: list[tuple[str, Found, uuid.UUID, Any]] = []
    for h in hashes:
        old = existing.get(h)
        f = _keep_outside(found[h], old)
        cid = old.id if old is not None else uuid.uuid4()
        # In _COMPARED's order.
        values = (people.get(h), f.kind, depth, f.via, f.first, f.last,
                  quarantine_until(f.last, days), f.area_code, f.counts)
        text = _evidence_text(f.evidence, pg)
        # The evidence is compared as the text that would be written (one string
        # comparison, no parsing of what is stored), the rest as one tuple.
        if old is None or old.evidence_text != text or _old_values(old) != values:
            rows.append({"id": cid, "case_id": case.id, "person_hash": h, "found_at": now,
                         "find_person": old is None, "new": old is None,
                         "evidence": f.evidence, "evidence_text": text,
                         **dict(zip(_COMPARED, values, strict=True))})
        made.append((h, f, cid, old))
    if rows:
        people |= _upsert(session, rows)
    out: list[Stored] = []
    for h, f, cid, old in made:
        row = Stored(cid, h, people.get(h), f.kind, depth, f.first, f.area_code,
                     newly_close=f.kind == "close" and (old is None or old.kind != "close"),
                     new=old is None)
        existing[h] = row
        out.append(row)
    return out


def _keep_outside(f: Found, old: Any) -> Found:
    """The search's finding plus the evidence it cannot find itself that the stored row
    holds (an analytics run's companions, `merge_outside`): a search run after companions
    were added must not drop them, nor turn their close contact back into a general one."""
    kept = _outside(old)
    if not kept:
        return f
    items = _union(f.evidence, kept)
    counts = None
    if f.counts is not None:
        counts = dict(f.counts)
        for e in kept:
            counts[e["kind"]] = counts.get(e["kind"], 0) + 1
    first = min([f.first, *(_at(e["from"]) for e in kept)])
    last = max([f.last, *(_at(e["to"]) for e in kept)])
    return Found(f.person_hash, items, first, last, f.area_code, "close", f.via, counts)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _union(items: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Both lists' items once each, in the order of their text (as `_merge` keeps them, so
    storing the same items again compares equal)."""
    keyed = {json.dumps(e, sort_keys=True): e for e in [*items, *more]}
    return [keyed[k] for k in sorted(keyed)]


@dataclass(frozen=True)
class Outside:
    """One piece of evidence found outside the search: the person, when, and the item
    (its `kind` one of OUTSIDE_KINDS; `from` and `to` ISO times)."""

    person_hash: str
    first: datetime
    last: datetime
    item: dict[str, Any]


@dataclass(frozen=True)
class Merged:
    """What `merge_outside` did, by person: new contacts, stored ones that gained evidence,
    stored ones that had it all already, and hashes that belong to no person record."""

    stored: list[Stored]
    added: int
    merged: int
    unchanged: int
    unknown: list[str]


def merge_outside(*, session: Session, case: Case, found: list[Outside],
                  days: int = QUARANTINE_DAYS) -> Merged:
    """Make the persons in `found` close contacts of the case, merged into what is stored.

    One row per (case, person hash) as ever: a person the search already found keeps
    its row, its evidence and its task, gains the new items, and is never made less
    than it was (close stays close; a secondary or general contact becomes close, at
    depth 1: they were with the case themselves; exposures and quarantine only widen).
    Adding the same evidence again changes nothing. A hash with no person record is
    not stored: it is reported back (`unknown`), never made into a contact.
    """
    # Race: two officials adding companions to one case at once, or an official adding
    # them while another runs the contact search, would each read the stored rows and
    # write back their own merge, and the later write would drop the other's evidence.
    # Lock the case (as the search does): the second waits (PostgreSQL) or is refused as
    # busy (SQLite), then reads the rows the first one stored.
    lock_row(session, Case, case.id)
    by_person: dict[str, list[Outside]] = {}
    for o in found:
        if o.person_hash != case.person_hash:
            by_person.setdefault(o.person_hash, []).append(o)
    hashes = sorted(by_person)
    existing: dict[str, Any] = {}
    for i in range(0, len(hashes), PEOPLE_CHUNK):
        existing.update((r.person_hash, r) for r in session.execute(
            select(Contact.person_hash, Contact.id, *(getattr(Contact, n) for n in _UPDATED))
            .where(Contact.case_id == case.id,
                   Contact.person_hash.in_(hashes[i:i + PEOPLE_CHUNK]))).all())
    known = {h: existing[h].person_id for h in hashes
             if h in existing and existing[h].person_id is not None}
    people = _people(session, [h for h in hashes if h not in known]) | known
    pg = session.get_bind().dialect.name == "postgresql"
    now = utcnow()
    rows: list[dict[str, Any]] = []
    stored: list[Stored] = []
    added = merged = unchanged = 0
    unknown: list[str] = []
    for h in hashes:
        if h not in people:
            unknown.append(h)
            continue
        items = _union([], [o.item for o in by_person[h]])
        first = min(o.first for o in by_person[h])
        last = max(o.last for o in by_person[h])
        old = existing.get(h)
        if old is None:
            values: dict[str, Any] = {
                "person_id": people[h], "kind": "close", "depth": 1, "via_contact_id": None,
                "first_exposure": first, "last_exposure": last,
                "quarantine_until": quarantine_until(last, days),
                # Where to trace them: the result names no site, so the case's area
                # (whose officials added them); the search's rows name the site's.
                "area_code": case.area_code, "evidence": items, "evidence_counts": None}
            added += 1
        else:
            values = _merged_values(old, people[h], items, first, last, days)
            if all(getattr(old, n) == v for n, v in values.items()):
                unchanged += 1
                continue
            merged += 1
        cid = old.id if old is not None else uuid.uuid4()
        rows.append({"id": cid, "case_id": case.id, "person_hash": h, "found_at": now,
                     "find_person": False, "new": old is None,
                     "evidence_text": _evidence_text(values["evidence"], pg), **values})
        stored.append(Stored(cid, h, people[h], "close", 1, values["first_exposure"],
                             values["area_code"],
                             newly_close=old is None or old.kind != "close",
                             new=old is None))
    if rows:
        _upsert(session, rows)
    return Merged(stored, added, merged, unchanged, unknown)


def _merged_values(old: Any, person_id: uuid.UUID, items: list[dict[str, Any]],
                   first: datetime, last: datetime, days: int) -> dict[str, Any]:
    """A stored row with outside evidence added, nothing taken away."""
    new = [e for e in items if e not in old.evidence]
    counts = old.evidence_counts
    if counts is not None:
        # A secondary contact keeps examples and counts: the new items are counted, and
        # kept as examples too (they are what made it close).
        counts = dict(counts)
        for e in new:
            counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        evidence = [*old.evidence, *new]
    else:
        evidence = _union(old.evidence, new)
    last = max(old.last_exposure, last)
    return {"person_id": old.person_id or person_id, "kind": "close", "depth": 1,
            "via_contact_id": None, "first_exposure": min(old.first_exposure, first),
            "last_exposure": last,
            "quarantine_until": max(old.quarantine_until, quarantine_until(last, days)),
            "area_code": old.area_code, "evidence": evidence if new else old.evidence,
            "evidence_counts": counts if new else old.evidence_counts}


# Rows per INSERT on SQLite: 16 parameters each stay well under its 32,766 (PostgreSQL
# sends every row in one JSON parameter, `_upsert_pg`).
UPSERT_CHUNK = 1000
_UPDATED = level_store.UPDATED


# What a row to store carries beside its columns: find_person (look its person record up
# by hash, PostgreSQL), new (not stored before), evidence_text (its evidence as written).
_NOT_COLUMNS = ("find_person", "new", "evidence_text")


def _upsert(session: Session, rows: list[dict[str, Any]]) -> dict[str, uuid.UUID | None]:
    """INSERT new rows; UPDATE a stored row only where a value differs (no write else).

    Rows with `find_person` (PostgreSQL only) get their person record looked up by
    person hash here; returns those person ids by hash."""
    # ORM objects of these rows held by the session would now be stale.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Contact):
            session.expire(obj)
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        return _upsert_pg(session, rows)
    table = Contact.__table__

    def differs(mine: Any, theirs: Any, name: str) -> ColumnElement[bool]:
        if name in ("evidence", "evidence_counts"):
            # SQLite keeps the JSON text as written.
            return type_coerce(mine, Text).is_distinct_from(type_coerce(theirs, Text))
        return mine.is_distinct_from(theirs)

    # SQLite: the caller looked every person up already (`_people`).
    plain = [{k: v for k, v in r.items() if k not in _NOT_COLUMNS} for r in rows]
    for i in range(0, len(plain), UPSERT_CHUNK):
        stmt = dialect_insert(session)(table).values(plain[i:i + UPSERT_CHUNK])
        ex = stmt.excluded
        session.execute(stmt.on_conflict_do_update(
            index_elements=[table.c.case_id, table.c.person_hash],
            where=or_(*(differs(table.c[n], ex[n], n) for n in _UPDATED)),
            set_={n: ex[n] for n in _UPDATED}))
    return {}


def _cursor(session: Session) -> Any:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    return raw.cursor()


# PostgreSQL: the rows go as one JSON document (json_to_recordset), so the statement's
# text and plan are the same whatever the number of rows (a VALUES list of thousands of
# rows costs more to build and parse than to run). json has no equality: compared as jsonb.
# The evidence goes beside it, one JSON text per row in a binary text[] (%b: as text,
# psycopg quotes every element through a regex), matched by position: inside the
# document json_to_recordset copied each row's evidence out and json_in parsed it again.
# A commuter's 779 contacts (1.2 MB): PostgreSQL 36-39 -> 32-33 ms, Python 7 -> 5 ms.
# A row marked find_person (a new contact) takes its person record's id by person hash
# (the unique people.id_hash index), and the statement returns it.
_PG_UPSERT = (
    "INSERT INTO case_contacts (id, case_id, person_hash, found_at, "
    + ", ".join(_UPDATED) + ") "
    "SELECT u.id, %(case)s, u.person_hash, %(now)s, "
    "COALESCE(u.person_id, CASE WHEN u.find_person THEN "
    "(SELECT p.id FROM people p WHERE p.id_hash = u.person_hash) END), "
    + ", ".join("ev.evidence::json" if n == "evidence" else f"u.{n}"
                for n in _UPDATED if n != "person_id")
    + " FROM ROWS FROM (json_to_recordset(%(rows)s::json) AS (id uuid, person_hash text, "
    "find_person boolean, person_id uuid, kind text, depth smallint, via_contact_id uuid, "
    "first_exposure timestamptz, last_exposure timestamptz, quarantine_until date, "
    "area_code text, evidence_counts json)) WITH ORDINALITY AS u(id, person_hash, "
    "find_person, person_id, kind, depth, via_contact_id, first_exposure, last_exposure, "
    "quarantine_until, area_code, evidence_counts, n) "
    "JOIN unnest(%(evidence)b::text[]) WITH ORDINALITY AS ev(evidence, n) ON ev.n = u.n "
    + level_store.PG_ON_CONFLICT + " RETURNING person_hash, person_id")
# Only new rows (a case's first search; every row not stored before): a plain INSERT.
# Race: a second writer storing the same (case, person hash) between our read of the
# stored rows and this INSERT. Every writer of case_contacts (the search, its levels,
# merge_outside) locks the case row first and reads the stored rows under that lock, so
# a row we did not read cannot appear before we commit; the unique constraint stays as
# the guard (a writer without the lock would fail, not duplicate). Skipping ON CONFLICT
# skips its speculative insertion: a commuter's 779 new rows 44.8 -> 41.6 ms of
# PostgreSQL CPU (median of 10, replayed; tests/tracing/test_tracing_races.py).
_PG_INSERT = _PG_UPSERT.replace(" " + level_store.PG_ON_CONFLICT, "")
_PG_KEYS = ("id", "person_hash", "find_person", *(n for n in _UPDATED if n != "evidence"))


def _upsert_pg(session: Session, rows: list[dict[str, Any]]) -> dict[str, uuid.UUID | None]:
    doc = orjson.dumps([{k: r[k] for k in _PG_KEYS} for r in rows]).decode()
    # The text the search compared with the stored one (`_evidence_text`).
    evidence = [r["evidence_text"] for r in rows]
    wanted = {r["person_hash"] for r in rows if r["find_person"]}
    sql = _PG_INSERT if all(r["new"] for r in rows) else _PG_UPSERT
    with _cursor(session) as cur:
        cur.execute(sql, {"case": rows[0]["case_id"], "now": rows[0]["found_at"],
                          "rows": doc, "evidence": evidence})
        return {h: pid for h, pid in cur.fetchall() if h in wanted}
