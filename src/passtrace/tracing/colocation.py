"""Same place, same time: registrations and stays of others near the index persons' own.

Set-based, for any number of index persons at once (a case's person, or every contact of
one level when secondary contacts are searched): first their own allowed registrations
and stays in the window (the (person, time) indexes), then everyone's at those sites
around those times (one indexed (site, time) range per own registration or stay). On
PostgreSQL both steps are one prepared statement of LATERAL probes, each pruned to the
day partitions that can hold its rows (`_FETCH_SQL`, `_PARTS_SQL`); elsewhere one
statement per kind with the ranges OR-ed (CHUNK a statement). Pairs are matched exactly
in Python (`_match`), the same code on both databases; the candidates are few.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from passtrace.registrations import stays
from passtrace.registrations.models import Registration, Stay
from passtrace.sites.models import Site

# OR-ed index ranges per statement (SQLite's expression depth stays well inside limits).
CHUNK = 200


def stay_bound() -> timedelta:
    """How long a stay can be: the longest configured cap (registrations.stays).

    A stay ends at its "in" plus the cap of its site's kind at the latest, so a stay that
    could overlap a time started at most this long before it; this bounds the
    (site, started_at) and (person, started_at) index ranges scanned. The caps come from
    PASSTRACE_STAY_CAP_HOURS: raising it lengthens the bound with it.
    """
    return max(stays.cap_for(kind) for kind in stays.STAY_KINDS)


@dataclass(slots=True)
class Hit:
    """One piece of evidence that `person_hash` met the index person."""

    person_hash: str
    kind: str
    site_id: uuid.UUID | None
    start: datetime
    end: datetime
    evidence: dict[str, Any] = field(default_factory=dict)
    area: str = ""  # the site's area code (where a contact met there is traced)
    # The item's text as json.dumps({"kind": kind, **evidence}, sort_keys=True) writes it:
    # the order a contact's evidence is kept in (contacts._merge). Same-place hits build
    # it from their rows' texts, written once per row (`Reg.text`); dumping every item
    # again took about a sixth of a commuter's run in Python (700 contacts, 3k items).
    key: str | None = None


@dataclass(slots=True)
class Reg:
    id: uuid.UUID
    person_hash: str
    site_id: uuid.UUID
    at: datetime
    direction: str
    external_id: str | None
    _ref: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _text: str | None = field(default=None, repr=False, compare=False)

    def ref(self) -> dict[str, Any]:
        # Built once: one registration is named by every hit it takes part in.
        if self._ref is None:
            self._ref = {"id": str(self.id), "at": self.at.isoformat(),
                         "direction": self.direction}
            if self.external_id:
                self._ref["external_id"] = self.external_id
        return self._ref

    def text(self) -> str:
        """ref() as json.dumps(..., sort_keys=True) writes it (part of a Hit's key), by
        hand: json.dumps itself cost more than the rest of the key."""
        if self._text is None:
            ref = self.ref()
            ext = (f', "external_id": {_quoted(ref["external_id"])}'
                   if "external_id" in ref else "")
            self._text = (f'{{"at": "{ref["at"]}", "direction": {_quoted(ref["direction"])}'
                          f'{ext}, "id": "{ref["id"]}"}}')
        return self._text


@dataclass(slots=True)
class StayRow:
    id: uuid.UUID
    person_hash: str
    site_id: uuid.UUID
    start: datetime
    end: datetime
    out_id: uuid.UUID | None
    closed_by: str
    _ref: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _text: str | None = field(default=None, repr=False, compare=False)

    def ref(self) -> dict[str, Any]:
        if self._ref is None:
            self._ref = {"id": str(self.id), "from": self.start.isoformat(),
                         "to": self.end.isoformat(), "closed_by": self.closed_by}
        return self._ref

    def text(self) -> str:
        """ref() as json.dumps(..., sort_keys=True) writes it (part of a Hit's key)."""
        if self._text is None:
            ref = self.ref()
            self._text = (f'{{"closed_by": {_quoted(ref["closed_by"])}, '
                          f'"from": "{ref["from"]}", "id": "{ref["id"]}", "to": "{ref["to"]}"}}')
        return self._text


@dataclass(frozen=True)
class Source:
    """An index person and where their part of the window begins."""

    person_hash: str
    start: datetime


_REG_COLS = (Registration.id, Registration.person_hash, Registration.site_id,
             Registration.occurred_at, Registration.direction, Registration.external_id)
_STAY_COLS = (Stay.id, Stay.person_hash, Stay.site_id, Stay.started_at, Stay.ended_at,
              Stay.out_registration_id, Stay.closed_by)
_ALLOWED = (Registration.decision == "allow", Registration.person_hash.is_not(None))


def _reg(r: Any) -> Reg:
    # person_hash is never NULL here (_ALLOWED excludes it).
    return Reg(r[0], r[1] or "", r[2], r[3], r[4], r[5])


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _others_regs(session: Session,
                 ranges: list[tuple[uuid.UUID, datetime, datetime]]) -> list[Reg]:
    """Allowed registrations at a site within [lo, hi], of anyone (SQLite: PostgreSQL
    reads them in _FETCH_SQL)."""
    ranges = sorted(set(ranges))
    if not ranges:
        return []
    out: dict[uuid.UUID, Reg] = {}
    for part in _chunks(ranges):
        clause = or_(*(and_(Registration.site_id == s, Registration.occurred_at >= lo,
                            Registration.occurred_at <= hi) for s, lo, hi in part))
        for r in session.execute(select(*_REG_COLS).where(clause, *_ALLOWED)):
            out[r[0]] = _reg(r)
    return list(out.values())


def _others_stays(session: Session,
                  ranges: list[tuple[uuid.UUID, datetime, datetime]]) -> list[StayRow]:
    """Stays at a site touching [lo, hi] (started by hi, ended at lo or later), of anyone
    (SQLite: PostgreSQL reads them in _FETCH_SQL)."""
    ranges = sorted(set(ranges))
    if not ranges:
        return []
    bound = stay_bound()
    out: dict[uuid.UUID, StayRow] = {}
    for part in _chunks(ranges):
        clause = or_(*(and_(Stay.site_id == s, Stay.started_at >= lo - bound,
                            Stay.started_at <= hi, Stay.ended_at >= lo) for s, lo, hi in part))
        for s in session.execute(select(*_STAY_COLS).where(clause)):
            out[s[0]] = StayRow(*s)
    return list(out.values())


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 2)


class _Near:
    """Everyone's registrations and stays near the index persons', by site and time.

    Each site's rows are sorted by time, so one index person's registration or stay
    looks only at the rows inside its own range (bisect), not at every row fetched for
    the whole level.
    """

    def __init__(self, regs: list[Reg], stays_: list[StayRow],
                 kinds: dict[uuid.UUID, str]) -> None:
        self.kinds = kinds
        # Registrations that begin or end a stay, by the int of their id: uuid.UUID hashes
        # and compares in Python, and a commuter's search looked ~3k ids up here.
        self.stay_ends = {s.id.int for s in stays_} | {s.out_id.int for s in stays_
                                                        if s.out_id}
        by_site: dict[uuid.UUID, list[Reg]] = {}
        for r in regs:
            by_site.setdefault(r.site_id, []).append(r)
        self.regs = {k: sorted(v, key=lambda r: r.at) for k, v in by_site.items()}
        self.reg_times = {k: [r.at for r in v] for k, v in self.regs.items()}
        stays_by_site: dict[uuid.UUID, list[StayRow]] = {}
        for st in stays_:
            stays_by_site.setdefault(st.site_id, []).append(st)
        self.stays = {k: sorted(v, key=lambda s: s.start) for k, v in stays_by_site.items()}
        self.stay_starts = {k: [s.start for s in v] for k, v in self.stays.items()}
        self.bound = stay_bound()

    def regs_between(self, site: uuid.UUID, lo: datetime, hi: datetime) -> list[Reg]:
        """The registrations at the site at lo..hi (both included)."""
        times = self.reg_times.get(site)
        if not times:
            return []
        return self.regs[site][bisect_left(times, lo):bisect_right(times, hi)]

    def stays_touching(self, site: uuid.UUID, lo: datetime, hi: datetime) -> list[StayRow]:
        """The stays at the site that began by hi and ended at lo or later."""
        starts = self.stay_starts.get(site)
        if not starts:
            return []
        rows = self.stays[site][bisect_left(starts, lo - self.bound):bisect_right(starts, hi)]
        return [s for s in rows if s.end >= lo]


def find(session: Session, *, person_hash: str, start: datetime, end: datetime,
         window_minutes: int, overlap_minutes: Mapping[str, int]) -> list[Hit]:
    """Every same-place hit of others with `person_hash` in [start, end).

    window_minutes: W for same_site_window (a gap of exactly W counts). overlap_minutes:
    M per site kind for stay_overlap (missing kinds: 0, touching stays count).
    """
    return find_many(session, sources=[Source(person_hash, start)], end=end,
                     window_minutes=window_minutes,
                     overlap_minutes=overlap_minutes)[person_hash]


def find_many(session: Session, *, sources: Sequence[Source], end: datetime,
              window_minutes: int, overlap_minutes: Mapping[str, int]
              ) -> dict[str, list[Hit]]:
    """`find` for several index persons at once (each from its own start), by person hash."""
    out: dict[str, list[Hit]] = {s.person_hash: [] for s in sources}
    if not sources:
        return out
    starts = {s.person_hash: s.start for s in sources}
    hashes = sorted(starts)
    w = timedelta(minutes=window_minutes)
    if _postgres(session):
        own_regs, own_stays, others_regs, others_stays, sites = _fetch_pg(
            session, sources=sources, end=end, w=w)
    else:
        own_regs, own_stays = _own(session, starts, end)
        mine_r = [r for h in hashes for r in own_regs[h]]
        mine_s = [s for h in hashes for s in own_stays[h]]
        if not mine_r and not mine_s:
            return out
        stay_ranges = [(s.site_id, s.start, s.end) for s in mine_s]
        others_regs = _others_regs(session, [(r.site_id, r.at - w, r.at + w)
                                             for r in mine_r] + stay_ranges)
        others_stays = _others_stays(session, stay_ranges + [(r.site_id, r.at, r.at)
                                                             for r in mine_r])
        sites = _site_facts(session, {r.site_id for r in mine_r}
                            | {s.site_id for s in mine_s})
    near = _Near(others_regs, others_stays, {k: kind for k, (kind, _) in sites.items()})
    # By the int of the site's id (uuid.UUID hashes in Python): looked up once per hit.
    areas = {k.int: area for k, (_, area) in sites.items()}
    for h in hashes:
        out[h] = _match(h, own_regs.get(h, []), own_stays.get(h, []), near, w,
                        overlap_minutes)
        for hit in out[h]:
            hit.area = areas.get(hit.site_id.int, "") if hit.site_id is not None else ""
    return out


def _own(session: Session, starts: Mapping[str, datetime], end: datetime
         ) -> tuple[dict[str, list[Reg]], dict[str, list[StayRow]]]:
    """The index persons' own allowed registrations and stays, each from its start."""
    hashes = sorted(starts)
    first = min(starts.values())
    own_regs: dict[str, list[Reg]] = {h: [] for h in hashes}
    for r in session.execute(select(*_REG_COLS).where(
            Registration.person_hash.in_(hashes), Registration.occurred_at >= first,
            Registration.occurred_at < end, *_ALLOWED)):
        reg = _reg(r)
        if reg.at >= starts[reg.person_hash]:
            own_regs[reg.person_hash].append(reg)
    own_stays: dict[str, list[StayRow]] = {h: [] for h in hashes}
    # A stay touching the window ended at its start or later, so began at most a stay's
    # longest length before it.
    for s in session.execute(select(*_STAY_COLS).where(
            Stay.person_hash.in_(hashes), Stay.started_at >= first - stay_bound(),
            Stay.started_at < end, Stay.ended_at >= first)):
        stay = StayRow(*s)
        if stay.end >= starts[stay.person_hash]:
            own_stays[stay.person_hash].append(stay)
    return own_regs, own_stays


# --- PostgreSQL: one prepared statement, index probes pruned to the partitions -----------
#
# Registrations are partitioned by the day of their id (registrations/partitions.py), not
# by occurred_at, so a read bounded by time alone visits every day's partition: one index
# descent in each of ~35 per probe, and planning the statement over all of them cost 2-4
# ms each time (EXPLAIN, 1M registrations). An id is normally made when its registration
# occurred, but not always (an id made later for an older event, a device clock that
# jumped): a fixed id window around the time would miss those rows. So the statement
# first reads each day partition's real occurred_at range (its first and last entry of
# the occurred_at index: two descents per partition), and bounds every probe of
# [lo, hi] by the ids of the partitions whose range meets it, plus every id outside the
# day partitions (the default partition, and any partition made after the catalog was
# read). PostgreSQL prunes the others on each probe (run-time pruning: "never executed"
# in EXPLAIN ANALYZE). A partition with a stray old row is then visited by more probes:
# slower, never wrong.
#
# The bounds of the day partitions come from the catalog in the same statement.
_PARTS_SQL = r"""
bounds AS MATERIALIZED (
  SELECT substring(x.b FROM $$FROM \('([0-9a-f-]+)'\)$$)::uuid AS lo,
         substring(x.b FROM $$TO \('([0-9a-f-]+)'\)$$)::uuid AS hi
  FROM (SELECT (SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c
                WHERE c.oid = i.inhrelid) AS b
        FROM pg_inherits i WHERE i.inhparent = to_regclass('registrations') OFFSET 0) x
  WHERE x.b LIKE 'FOR VALUES FROM%%'),
parts AS MATERIALIZED (
  SELECT b.lo, b.hi, m.mn, m.mx FROM bounds b CROSS JOIN LATERAL (
    SELECT min(r.occurred_at) AS mn, max(r.occurred_at) AS mx FROM registrations r
    WHERE r.id >= b.lo AND r.id < b.hi) m
  WHERE m.mn IS NOT NULL),
-- Ids below the first day partition or from the end of the last (no day partitions:
-- every id).
edge AS MATERIALIZED (
  SELECT COALESCE(min(lo::text COLLATE "C")::uuid,
                  'ffffffff-ffff-ffff-ffff-ffffffffffff') AS first,
         COALESCE(max(hi::text COLLATE "C")::uuid,
                  '00000000-0000-0000-0000-000000000000') AS last FROM bounds)"""


def _ids_of(lo: str, hi: str) -> str:
    """A LATERAL subquery `k` (k.lo, k.hi): the ids of the day partitions holding a
    registration that occurred in [lo, hi] (NULL, NULL: none)."""
    return (" CROSS JOIN LATERAL (SELECT min(p.lo::text COLLATE \"C\")::uuid AS lo,"
            " max(p.hi::text COLLATE \"C\")::uuid AS hi FROM parts p"
            f" WHERE p.mn <= {hi} AND p.mx >= {lo}) k")


def _in_ids(alias: str) -> str:
    """The probe's id condition: within k, or outside every day partition (edge e)."""
    return (f"(({alias}.id >= k.lo AND {alias}.id < k.hi) OR {alias}.id < e.first"
            f" OR {alias}.id >= e.last)")


# Every read is a LATERAL probe (OFFSET 0 keeps the planner from flattening it into a
# join): one (person, time) index range per index person, one (site, time) range per own
# registration or stay. Left to its estimates for a join with the ranges, the planner
# hashed a parallel sequential scan of every partition: 600 ms for a case with 27 stays
# at 1M registrations, against 1,467 rows read by 26 probes in 2 ms.
_FETCH_SQL = "WITH " + _PARTS_SQL + """,
src AS (SELECT * FROM unnest(%(h)s::text[], %(st)s::timestamptz[]) AS s(h, st)),
own_r AS MATERIALIZED (
  SELECT r.* FROM src s CROSS JOIN edge e""" + _ids_of("s.st", "%(e)s") + """
  CROSS JOIN LATERAL (
    SELECT r.id, r.person_hash, r.site_id, r.occurred_at, r.direction, r.external_id
    FROM registrations r
    WHERE r.person_hash = s.h AND r.occurred_at >= s.st AND r.occurred_at < %(e)s
      AND r.decision = 'allow' AND """ + _in_ids("r") + """ OFFSET 0) r),
own_s AS MATERIALIZED (
  SELECT t.* FROM src s CROSS JOIN LATERAL (
    SELECT t.id, t.person_hash, t.site_id, t.started_at, t.ended_at,
           t.out_registration_id, t.closed_by FROM stays t
    WHERE t.person_hash = s.h AND t.started_at >= s.st - %(cap)s
      AND t.started_at < %(e)s AND t.ended_at >= s.st OFFSET 0) t),
reg_q AS MATERIALIZED (
  SELECT site_id, occurred_at - %(w)s AS lo, occurred_at + %(w)s AS hi FROM own_r
  UNION SELECT site_id, started_at, ended_at FROM own_s),
stay_q AS MATERIALIZED (
  SELECT site_id, started_at AS lo, ended_at AS hi FROM own_s
  UNION SELECT site_id, occurred_at, occurred_at FROM own_r),
others_r AS (
  SELECT DISTINCT g.* FROM reg_q q CROSS JOIN edge e""" + _ids_of("q.lo", "q.hi") + """
  CROSS JOIN LATERAL (
    SELECT g.id, g.person_hash, g.site_id, g.occurred_at, g.direction, g.external_id
    FROM registrations g
    WHERE g.site_id = q.site_id AND g.occurred_at >= q.lo AND g.occurred_at <= q.hi
      AND g.decision = 'allow' AND g.person_hash IS NOT NULL
      AND """ + _in_ids("g") + """ OFFSET 0) g),
others_s AS (
  SELECT DISTINCT t.* FROM stay_q q CROSS JOIN LATERAL (
    SELECT t.id, t.person_hash, t.site_id, t.started_at, t.ended_at,
           t.out_registration_id, t.closed_by FROM stays t
    WHERE t.site_id = q.site_id AND t.started_at >= q.lo - %(cap)s
      AND t.started_at <= q.hi AND t.ended_at >= q.lo OFFSET 0) t)
SELECT 'r', id, person_hash, site_id, occurred_at, NULL::timestamptz, direction,
       external_id, NULL::uuid FROM own_r
UNION ALL SELECT 'R', id, person_hash, site_id, occurred_at, NULL, direction, external_id,
       NULL FROM others_r
UNION ALL SELECT 's', id, person_hash, site_id, started_at, ended_at, closed_by, NULL,
       out_registration_id FROM own_s
UNION ALL SELECT 'S', id, person_hash, site_id, started_at, ended_at, closed_by, NULL,
       out_registration_id FROM others_s
UNION ALL SELECT 'F', id, NULL, id, NULL, NULL, kind, area_code, NULL FROM sites
  WHERE id IN (SELECT site_id FROM own_r UNION SELECT site_id FROM own_s)
"""


def prepared(session: Session, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Run one of these searches as a prepared statement with a generic plan.

    Planned once per connection, not per search: planning a statement over the ~35 day
    partitions cost more than running it. The generic plan keeps the probes pruned (the
    bounds are run-time values either way). The plan mode is set for this statement
    only (RESET after it), so the rest of the transaction plans as usual; the three go
    in one pipeline, one round trip (the machine this was measured on ran at load 10-20,
    where every round trip waits to be scheduled).

    JIT is turned off for the rest of the transaction in the same round trip: a statement
    over the partitioned registrations that the planner costs above jit_above_cost is
    compiled per partition (a verify baseline over 40 day partitions spent 29 of its 33 s
    compiling 682 functions, EXPLAIN ANALYZE at 200k registrations), and these searches
    are index probes that run in milliseconds: compiling never pays."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as before, raw.cursor() as cur, raw.cursor() as after:
        with raw.pipeline():
            before.execute("SET LOCAL jit = off")
            before.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cur.execute(sql, params, prepare=True)
            after.execute("RESET plan_cache_mode")
        return cur.fetchall()


def _fetch_pg(session: Session, *, sources: Sequence[Source], end: datetime, w: timedelta
              ) -> tuple[dict[str, list[Reg]], dict[str, list[StayRow]], list[Reg],
                         list[StayRow], dict[uuid.UUID, tuple[str, str]]]:
    """What find_many reads, in one statement (PostgreSQL)."""
    own_regs: dict[str, list[Reg]] = {}
    own_stays: dict[str, list[StayRow]] = {}
    others_regs: list[Reg] = []
    others_stays: list[StayRow] = []
    sites: dict[uuid.UUID, tuple[str, str]] = {}
    rows = prepared(session, _FETCH_SQL, {
        "h": [s.person_hash for s in sources], "st": [s.start for s in sources], "e": end,
        "w": w, "cap": stay_bound()})
    for tag, i, h, site_id, t1, t2, s1, s2, out_id in rows:
        if tag == "R":
            others_regs.append(Reg(i, h, site_id, t1, s1, s2))
        elif tag == "S":
            others_stays.append(StayRow(i, h, site_id, t1, t2, out_id, s1))
        elif tag == "r":
            own_regs.setdefault(h, []).append(Reg(i, h, site_id, t1, s1, s2))
        elif tag == "s":
            own_stays.setdefault(h, []).append(StayRow(i, h, site_id, t1, t2, out_id, s1))
        else:
            sites[i] = (s1, s2)
    return own_regs, own_stays, others_regs, others_stays, sites


def _match(me: str, own_regs: list[Reg], own_stays: list[StayRow], near: _Near,
           w: timedelta, overlap_minutes: Mapping[str, int]) -> list[Hit]:
    """The exact rules (docs/tracing.md) between one index person's rows and the others'."""
    # An instant is a registration that is neither end of a stay: in/out pairs are
    # compared as stays, so they do not also count as instants inside one.
    own_stay_ends = {s.id for s in own_stays} | {s.out_id for s in own_stays if s.out_id}
    hits: list[Hit] = []
    # Each Hit's key is its item's json.dumps(sort_keys=True) text, put together from the
    # rows' texts in the order of the item's sorted keys (test_contact_keys.py checks it
    # against json.dumps on every kind).
    for c in own_regs:
        site = str(c.site_id)
        for o in near.regs_between(c.site_id, c.at - w, c.at + w):
            if o.person_hash != me:
                gap = _minutes(abs(o.at - c.at))
                hits.append(Hit(o.person_hash, "same_site_window", c.site_id,
                                min(c.at, o.at), max(c.at, o.at),
                                {"site": site, "case_registration": c.ref(),
                                 "contact_registration": o.ref(), "gap_minutes": gap},
                                key=f'{{"case_registration": {c.text()}, '
                                    f'"contact_registration": {o.text()}, '
                                    f'"gap_minutes": {gap!r}, "kind": "same_site_window", '
                                    f'"site": "{site}"}}'))
    for c_stay in own_stays:
        need = timedelta(minutes=overlap_minutes.get(near.kinds.get(c_stay.site_id, ""), 0))
        site = str(c_stay.site_id)
        for o_stay in near.stays_touching(c_stay.site_id, c_stay.start, c_stay.end):
            lo, hi = max(c_stay.start, o_stay.start), min(c_stay.end, o_stay.end)
            if hi >= lo and hi - lo >= need and o_stay.person_hash != me:
                overlap = _minutes(hi - lo)
                hits.append(Hit(o_stay.person_hash, "stay_overlap", c_stay.site_id, lo, hi,
                                {"site": site, "case_stay": c_stay.ref(),
                                 "contact_stay": o_stay.ref(), "overlap_minutes": overlap},
                                key=f'{{"case_stay": {c_stay.text()}, '
                                    f'"contact_stay": {o_stay.text()}, '
                                    f'"kind": "stay_overlap", "overlap_minutes": {overlap!r}, '
                                    f'"site": "{site}"}}'))
        for o in near.regs_between(c_stay.site_id, c_stay.start, c_stay.end):
            if o.id.int not in near.stay_ends and o.person_hash != me:
                hits.append(Hit(o.person_hash, "instant_in_stay", o.site_id, o.at, o.at,
                                {"site": site, "registration": o.ref(),
                                 "stay": c_stay.ref(), "stay_of": "case"},
                                key=f'{{"kind": "instant_in_stay", '
                                    f'"registration": {o.text()}, "site": "{site}", '
                                    f'"stay": {c_stay.text()}, "stay_of": "case"}}'))
    for c in own_regs:
        if c.id in own_stay_ends:
            continue
        site = str(c.site_id)
        for o_stay in near.stays_touching(c.site_id, c.at, c.at):
            if o_stay.person_hash != me:
                hits.append(Hit(o_stay.person_hash, "instant_in_stay", c.site_id, c.at, c.at,
                                {"site": site, "registration": c.ref(),
                                 "stay": o_stay.ref(), "stay_of": "contact"},
                                key=f'{{"kind": "instant_in_stay", '
                                    f'"registration": {c.text()}, "site": "{site}", '
                                    f'"stay": {o_stay.text()}, "stay_of": "contact"}}'))
    return hits


def _site_facts(session: Session, site_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """Each site's kind and area code, in one statement."""
    if not site_ids:
        return {}
    return {i: (kind, area) for i, kind, area in session.execute(
        select(Site.id, Site.kind, Site.area_code).where(Site.id.in_(site_ids)))}


@dataclass
class Summary:
    """One person's same-place exposures to one index person, in summary: items per kind,
    first and last exposure, the area of the last, and the earliest few items."""

    counts: dict[str, int]
    first: datetime
    last: datetime
    area: str
    # (start, end, kind, item): the earliest items, as `example` writes them.
    examples: list[tuple[datetime, datetime, str, dict[str, Any]]]


def example(kind: str, site_id: uuid.UUID | str, start: datetime,
            end: datetime) -> dict[str, Any]:
    """A same-place evidence item as a secondary contact keeps it: kind, site and times."""
    return {"kind": kind, "site": str(site_id), "from": start.astimezone(UTC).isoformat(),
            "to": end.astimezone(UTC).isoformat()}


# The rules of `_match` as one statement for every index person of a level (PostgreSQL):
# their own allowed registrations and stays from their start, everyone else's at the same
# sites around them, and per (index person, other person) the counts, first/last exposure,
# area of the last and the `examples` earliest items, without sending a row per item.
# Each other person once: through the first index person (in the order given) they met.
#
# Every read of registrations and stays is a LATERAL probe (OFFSET 0 keeps the planner
# from flattening it): one (person, time) or (site, time) index range per own row. The
# planner cannot see how many rows the CTEs hold; left to itself it chose hash joins that
# read the whole of registrations and stays (all 200k rows, three times, for a level of
# 40 contacts at 200k registrations: 2.9 s), a cost that grows with the table, not the
# level.
_LEVEL_CTES = ("WITH " + _PARTS_SQL + """,
src AS (SELECT * FROM unnest(%(h)s::text[], %(st)s::timestamptz[])
             WITH ORDINALITY AS s(h, st, rank)),
need AS (SELECT * FROM unnest(%(mk)s::text[], %(mm)s::interval[]) AS m(kind, need)),
own_r AS MATERIALIZED (
  SELECT s.h AS src, r.id, r.site_id, r.at FROM src s CROSS JOIN edge e""" + _ids_of(
    "s.st", "%(e)s") + """
  CROSS JOIN LATERAL (
    SELECT r.id, r.site_id, r.occurred_at AS at FROM registrations r
    WHERE r.person_hash = s.h AND r.occurred_at >= s.st AND r.occurred_at < %(e)s
      AND r.decision = 'allow' AND """ + _in_ids("r") + """ OFFSET 0) r),
own_s AS MATERIALIZED (
  SELECT s.h AS src, t.id, t.out_id, t.site_id, t.lo, t.hi FROM src s
  CROSS JOIN LATERAL (
    SELECT t.id, t.out_registration_id AS out_id, t.site_id, t.started_at AS lo,
           t.ended_at AS hi FROM stays t
    WHERE t.person_hash = s.h AND t.started_at >= s.st - %(cap)s
      AND t.started_at < %(e)s AND t.ended_at >= s.st OFFSET 0) t),
-- Everyone's stays touching each own stay (the stay_overlap candidates), and the
-- registrations that begin or end one of them.
near_s AS MATERIALIZED (
  SELECT o.src, o.site_id, o.lo AS own_lo, o.hi AS own_hi, t.* FROM own_s o
  CROSS JOIN LATERAL (
    SELECT t.id, t.out_registration_id AS out_id, t.person_hash, t.started_at, t.ended_at
    FROM stays t
    WHERE t.site_id = o.site_id AND t.started_at BETWEEN o.lo - %(cap)s AND o.hi
      AND t.ended_at >= o.lo OFFSET 0) t),
ends AS MATERIALIZED (
  SELECT id FROM near_s UNION SELECT out_id FROM near_s WHERE out_id IS NOT NULL),
hits AS (
  SELECT o.src, g.person_hash AS h, 'same_site_window' AS kind, o.site_id,
         LEAST(o.at, g.occurred_at) AS lo, GREATEST(o.at, g.occurred_at) AS hi
  FROM own_r o CROSS JOIN edge e""" + _ids_of("o.at - %(w)s", "o.at + %(w)s") + """
  CROSS JOIN LATERAL (
    SELECT g.person_hash, g.occurred_at FROM registrations g
    WHERE g.site_id = o.site_id AND g.occurred_at BETWEEN o.at - %(w)s AND o.at + %(w)s
      AND g.decision = 'allow' AND g.person_hash IS NOT NULL AND g.person_hash <> o.src
      AND """ + _in_ids("g") + """ OFFSET 0) g
  UNION ALL
  SELECT t.src, t.person_hash, 'stay_overlap', t.site_id,
         GREATEST(t.own_lo, t.started_at), LEAST(t.own_hi, t.ended_at)
  FROM near_s t JOIN sites si ON si.id = t.site_id LEFT JOIN need ON need.kind = si.kind
  WHERE t.person_hash <> t.src AND LEAST(t.own_hi, t.ended_at)
        - GREATEST(t.own_lo, t.started_at) >= COALESCE(need.need, interval '0')
  UNION ALL
  SELECT o.src, g.person_hash, 'instant_in_stay', o.site_id, g.occurred_at, g.occurred_at
  FROM own_s o CROSS JOIN edge e""" + _ids_of("o.lo", "o.hi") + """
  CROSS JOIN LATERAL (
    SELECT g.id, g.site_id, g.person_hash, g.occurred_at FROM registrations g
    WHERE g.site_id = o.site_id AND g.occurred_at BETWEEN o.lo AND o.hi
      AND g.decision = 'allow' AND g.person_hash IS NOT NULL AND g.person_hash <> o.src
      AND """ + _in_ids("g") + """ OFFSET 0) g
  -- Neither end of a stay. A stay g begins or ends at g's site, began at most a cap
  -- before g and ended at g or later: it touches the own stay g lies in, so it is in
  -- near_s (as colocation._Near.stay_ends has it). Probing stays once per registration
  -- instead (two NOT EXISTS by id and by (site, time)) took 520 ms of a level's 1 s
  -- at 1M registrations (EXPLAIN ANALYZE, 45 contacts, 15k registrations in stays).
  WHERE NOT EXISTS (SELECT 1 FROM ends x WHERE x.id = g.id)
  UNION ALL
  SELECT o.src, t.person_hash, 'instant_in_stay', o.site_id, o.at, o.at
  FROM own_r o CROSS JOIN LATERAL (
    SELECT t.person_hash FROM stays t
    WHERE t.site_id = o.site_id AND t.started_at BETWEEN o.at - %(cap)s AND o.at
      AND t.ended_at >= o.at AND t.person_hash <> o.src OFFSET 0) t
  WHERE NOT EXISTS (SELECT 1 FROM own_s e WHERE e.src = o.src
                    AND (e.id = o.id OR e.out_id = o.id))),
ranked AS (SELECT hits.*, src.rank FROM hits JOIN src ON src.h = hits.src),
-- Each other person through the first index person they met: only those items are
-- summarized (the rest would be thrown away).
best AS (SELECT h, min(rank) AS rank FROM ranked GROUP BY h),
-- Each (index person, other person) once, summarized.
x AS (
  SELECT x.src, x.h, x.n_window, x.n_overlap, x.n_instant, x.first, x.last, x.area,
         x.kinds[1:%(k)s] AS kinds, x.sites[1:%(k)s] AS sites, x.los[1:%(k)s] AS los,
         x.his[1:%(k)s] AS his
  FROM (
  SELECT hits.src, hits.h,
         count(*) FILTER (WHERE hits.kind = 'same_site_window') AS n_window,
         count(*) FILTER (WHERE hits.kind = 'stay_overlap') AS n_overlap,
         count(*) FILTER (WHERE hits.kind = 'instant_in_stay') AS n_instant,
         min(hits.lo) AS first, max(hits.hi) AS last,
         (array_agg(si.area_code ORDER BY hits.hi DESC, si.area_code COLLATE "C"))[1] AS area,
         array_agg(hits.kind ORDER BY hits.lo, hits.hi, hits.kind COLLATE "C",
                   hits.site_id::text COLLATE "C") AS kinds,
         array_agg(hits.site_id ORDER BY hits.lo, hits.hi, hits.kind COLLATE "C",
                   hits.site_id::text COLLATE "C") AS sites,
         array_agg(hits.lo ORDER BY hits.lo, hits.hi, hits.kind COLLATE "C",
                   hits.site_id::text COLLATE "C") AS los,
         array_agg(hits.hi ORDER BY hits.lo, hits.hi, hits.kind COLLATE "C",
                   hits.site_id::text COLLATE "C") AS his
  FROM ranked AS hits JOIN best ON best.h = hits.h AND best.rank = hits.rank
  JOIN sites si ON si.id = hits.site_id
  GROUP BY hits.src, hits.h) AS x)
""")


def level_sql(tail: str) -> str:
    """The level statement's CTEs (`src`: the index persons with their `rank`, 1 first;
    `x`: one summary row per other person, through the first index person they met:
    src, h, n_window, n_overlap, n_instant, first, last, area and the earliest
    kinds/sites/los/his) followed by `tail`, which reads them (a SELECT, or more CTEs
    and a statement: the secondary contacts' store, `level_store`)."""
    return _LEVEL_CTES + tail


_LEVEL_SQL = level_sql("SELECT * FROM x")


def level_params(*, sources: Sequence[Source], end: datetime, window_minutes: int,
                 overlap_minutes: Mapping[str, int], examples: int) -> dict[str, Any]:
    """The parameters of a `level_sql` statement (its own may be added beside them)."""
    kinds = sorted(overlap_minutes)
    return {"h": [s.person_hash for s in sources], "st": [s.start for s in sources],
            "e": end, "w": timedelta(minutes=window_minutes), "cap": stay_bound(),
            "mk": kinds, "mm": [timedelta(minutes=overlap_minutes[k]) for k in kinds],
            "k": examples}


def summaries_pg(session: Session, *, sources: Sequence[Source], end: datetime,
                 window_minutes: int, overlap_minutes: Mapping[str, int],
                 examples: int) -> dict[str, dict[str, Summary]]:
    """`find_many` in summary, in one statement (PostgreSQL): by index person, by person.

    Each other person comes once, under the first of `sources` (in their order) that they
    met: secondary contacts keep the contact they were exposed through first, so the
    others' summaries would be thrown away."""
    out: dict[str, dict[str, Summary]] = {s.person_hash: {} for s in sources}
    if not sources:
        return out
    rows = prepared(session, _LEVEL_SQL, level_params(
        sources=sources, end=end, window_minutes=window_minutes,
        overlap_minutes=overlap_minutes, examples=examples))
    for src, h, *rest in rows:
        out[src][h] = summary_of(*rest)
    return out


def summary_of(n_window: int, n_overlap: int, n_instant: int, first: datetime,
               last: datetime, area: str | None, kinds: list[str], sites: list[uuid.UUID],
               los: list[datetime], his: list[datetime]) -> Summary:
    """A `Summary` from one row of the level statement's `x`."""
    counts = {k: n for k, n in (("same_site_window", n_window), ("stay_overlap", n_overlap),
                                ("instant_in_stay", n_instant)) if n}
    return Summary(counts, first, last, area or "", [
        (lo, hi, k, example(k, s, lo, hi))
        for k, s, lo, hi in zip(kinds, sites, los, his, strict=True)])
