"""Stays: an allowed "in" at a gate, enterprise gate or venue, until the person left.

A stay is defined by two neighbouring events, nothing else: for each allowed "in" of a
person at a site that makes stays, take the next allowed in/out of the same person at
the same site in the order (occurred_at, direction, id), "in" before "out":

- an "out" before the cap: the stay ends there, closed_by "out";
- an "in" before the cap (the guard missed an "out"): the stay ends at that "in",
  closed_by "cap" (the end is assumed, not seen: the person cannot have come in twice);
- nothing before the cap: the stay ends at started_at + cap, closed_by "cap".

An "out" with no open stay (before any "in", after the cap, or a second "out") is an
instant and makes nothing; denied registrations count for nothing (an override that
ends as "allow" counts from then on).

Ties: two events at the very same instant are ordered "in" before "out", then by id, so
every path gives the same stays whatever the arrival order. An "in" and an "out" at one
instant make a stay of no length, closed by the "out"; two "in"s at one instant (a double
scan) make one of no length (the lower id, ended by the other) and one that runs on.

Because a stay depends only on its "in" and the event after it, storing one new event
changes at most two stays: the one that contained its time (now ended by it) and, for
an "in", its own. So `open_or_close` keeps stays at write time, in any arrival order
(an offline "in" uploaded after its "out" included), and `rebuild` recomputes the
same rows from the registrations: the stay's id is the "in"'s id, so it is idempotent.

Race: an "in" reads the event after it, then inserts its stay; an "out" stored at the
same moment by another lane or device would not be seen (a phantom), and a batch's
recompute (read, delete, insert) racing another batch would insert the same stay twice.
So every writer of stays works under the audit chain's lock, which every registration
path takes anyway for its audit entry (audit/chain.lock_head): service.register and
override call open_or_close after their audit entry, the fast path's stay CTEs run in
the statement after it takes the lock, and after_batch and rebuild take it themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from passtrace.audit import chain
from passtrace.core.config import Settings
from passtrace.registrations import lookback, partitions
from passtrace.registrations.models import Registration, Stay
from passtrace.sites.models import Site

# The site kinds where people stay inside between an "in" and an "out". A road
# checkpoint or a temporary intersection is passed "through": an instant.
STAY_KINDS = frozenset({"community_gate", "enterprise_gate", "venue"})
DEFAULT_CAP = timedelta(hours=12)

_caps: dict[str, timedelta] = dict.fromkeys(STAY_KINDS, DEFAULT_CAP)
# The configured default: the cap of a kind that makes no stays, which is how far back
# "already inside?" looks there (registrations/lookback.py).
_other_kinds_cap = [DEFAULT_CAP]


def configure(settings: Settings) -> None:
    """Take the caps from the settings (called by wiring.wire with the runtime).

    `PASSTRACE_STAY_CAP_HOURS` is "12" or "default=12,venue=4"; a kind that makes no
    stays (or a misspelt one) is refused loudly rather than silently ignored.
    """
    hours = dict(settings.stay_cap_hours)
    unknown = sorted(set(hours) - STAY_KINDS - {"default"})
    if unknown:
        raise ValueError(f"PASSTRACE_STAY_CAP_HOURS: {', '.join(unknown)} make no stays "
                         f"(kinds: {', '.join(sorted(STAY_KINDS))})")
    default = hours.get("default", 12)
    for kind in STAY_KINDS:
        _caps[kind] = timedelta(hours=hours.get(kind, default))
    _other_kinds_cap[0] = timedelta(hours=default)


def makes_stays(site_kind: str) -> bool:
    """Tell whether registrations at this kind of site make stays."""
    return site_kind in STAY_KINDS


def cap_for(site_kind: str) -> timedelta:
    """How long an "in" with no "out" is assumed to last at this kind of site.

    A kind that makes no stays (a road checkpoint) takes the configured default: it
    bounds how long its "in" makes the person "already inside" (lookback.py).
    """
    return _caps.get(site_kind, _other_kinds_cap[0])


def _longest_cap() -> timedelta:
    return max(_caps.values())


@dataclass(frozen=True)
class _Event:
    id: uuid.UUID
    occurred_at: datetime
    direction: str


def _stay_values(start: _Event, following: _Event | None, *, person_hash: str,
                 site_id: uuid.UUID, cap: timedelta) -> dict[str, Any]:
    """The stay row an "in" makes, given the next event (the rule in the docstring)."""
    values: dict[str, Any] = {"id": start.id, "person_hash": person_hash, "site_id": site_id,
                              "started_at": start.occurred_at,
                              "ended_at": start.occurred_at + cap, "closed_by": "cap",
                              "out_registration_id": None}
    # `following` comes after `start` in the order (occurred_at, direction, id), so it
    # may share its instant: a stay of no length.
    if following is not None and following.occurred_at < start.occurred_at + cap:
        values["ended_at"] = following.occurred_at
        if following.direction == "out":
            values["closed_by"] = "out"
            values["out_registration_id"] = following.id
    return values


def _counts(row: Any, site_kind: str) -> bool:
    return (makes_stays(site_kind) and row.decision == "allow"
            and row.direction in ("in", "out") and row.person_hash is not None)


def _allowed_moves() -> Any:
    return and_(Registration.decision == "allow", Registration.direction.in_(("in", "out")))


# The order of one person's events at one site; "in" sorts before "out" at one instant.
_ORDER = (Registration.occurred_at, Registration.direction, Registration.id)


def _comes_between(x: Registration) -> tuple[Any, Any]:
    """Stays whose "in" comes before `x` and whose end (the event after it) comes after.

    In the order (occurred_at, direction, id): `x` becomes the event after such a stay's
    "in". A stay ended by an "in" at x's instant keeps its end either way (same values).
    """
    at = x.occurred_at
    if x.direction == "out":
        before = Stay.started_at <= at  # every "in" at this instant sorts before an "out"
        after = or_(Stay.ended_at > at, and_(Stay.ended_at == at, Stay.closed_by == "out",
                                             Stay.out_registration_id > x.id))
    else:
        before = or_(Stay.started_at < at, and_(Stay.started_at == at, Stay.id < x.id))
        after = or_(Stay.ended_at > at, and_(Stay.ended_at == at, Stay.closed_by == "out"))
    return before, after


def open_or_close(session: Session, registration: Registration, *,
                  site_kind: str | None = None) -> None:
    """Keep the stays right after storing one registration (same transaction).

    An "out" (or "in") ends the stay that contains its time; an "in" also opens its own
    stay, ended by whatever stored event follows it (normally none yet).

    The caller holds the audit chain's lock (see the module's docstring).

    Race: two "out"s for one open stay at once (two lanes). Each ends it with one
    conditional UPDATE ("... WHERE ended_at > this time"): PostgreSQL re-checks that
    condition on the row after waiting for the other's lock, so the later "out" finds
    the stay already ended and changes nothing, and the earlier one wins whichever
    commits first; SQLite lets one writer at a time. Reading the stay and writing it
    back from Python would let the later "out" overwrite the earlier one.
    """
    kind = site_kind
    if kind is None:
        kind = session.scalar(select(Site.kind).where(Site.id == registration.site_id)) or ""
    if not _counts(registration, kind):
        return
    at, person, site_id = registration.occurred_at, registration.person_hash, registration.site_id
    assert person is not None
    session.flush()
    ends: dict[str, Any] = {"ended_at": at, "closed_by": "cap", "out_registration_id": None}
    if registration.direction == "out":
        ends = {"ended_at": at, "closed_by": "out", "out_registration_id": registration.id}
    # A stay containing `at` began less than a cap before it (ended_at <= started_at +
    # cap): the bound keeps the index scan to that span of the person's stays.
    session.execute(update(Stay).where(
        Stay.person_hash == person, Stay.site_id == site_id,
        Stay.started_at > at - cap_for(kind), *_comes_between(registration))
        .values(**ends).execution_options(synchronize_session=False))
    if registration.direction != "in":
        return
    cap = cap_for(kind)
    # Only an event before the cap can end the stay early (_stay_values): the bound on
    # occurred_at changes nothing, and the one on the id keeps PostgreSQL off the day
    # partitions older than the "in" (lookback.py).
    following = session.execute(
        select(Registration.id, Registration.occurred_at, Registration.direction)
        .where(Registration.person_hash == person, Registration.site_id == site_id,
               _allowed_moves(), or_(Registration.occurred_at > at, and_(
                   Registration.occurred_at == at,
                   or_(Registration.direction == "out", Registration.id > registration.id))),
               Registration.occurred_at < at + cap, Registration.id >= lookback.ids_from(at))
        .order_by(*_ORDER).limit(1)).first()
    values = _stay_values(_Event(registration.id, at, "in"),
                          _Event(*following) if following is not None else None,
                          person_hash=person, site_id=site_id, cap=cap)
    if session.get(Stay, registration.id) is None:
        session.execute(insert(Stay), [values])


# PostgreSQL fast path (registrations/fastpath.py): the same as open_or_close, as
# data-modifying CTEs added to the statement that inserts the registration, so a
# checkpoint check costs no extra round trip. They read the inserted row from the CTE
# "r" (RETURNING id, person_hash, site_id, occurred_at), so a retried id (nothing
# inserted) changes no stay.
# Race: as in open_or_close, the UPDATE's "ended_at > r.occurred_at" is re-checked by
# PostgreSQL on the locked row, so of two concurrent "out"s the earlier one ends the stay.
# The tie conditions are _comes_between's; the direction comes as a parameter.
# The direction is written into the text (one statement per direction), not passed:
# the statements stay under psycopg's 50 parameters, past which it parses the text of
# every execution again (about 0.3 ms for the gate's write).
_PG_END_SQL = ("s_end AS (UPDATE stays s SET ended_at = r.occurred_at, closed_by = '{closed_by}', "
               "out_registration_id = CASE WHEN '{direction}' = 'out' THEN r.id END FROM r "
               "WHERE s.person_hash = r.person_hash AND s.site_id = r.site_id "
               "AND s.started_at > r.occurred_at - %s "
               "AND (s.started_at < r.occurred_at OR (s.started_at = r.occurred_at "
               "AND ('{direction}' = 'out' OR s.id < r.id))) "
               "AND (s.ended_at > r.occurred_at OR (s.ended_at = r.occurred_at "
               "AND s.closed_by = 'out' AND ('{direction}' = 'in' "
               "OR s.out_registration_id > r.id))))")
_PG_END = {"in": _PG_END_SQL.format(closed_by="cap", direction="in"),
           "out": _PG_END_SQL.format(closed_by="out", direction="out")}
_PG_OPEN = (
    "s_open AS (INSERT INTO stays (id, person_hash, site_id, started_at, ended_at, "
    "closed_by, out_registration_id) "
    "SELECT r.id, r.person_hash, r.site_id, r.occurred_at, "
    "CASE WHEN n.occurred_at < r.occurred_at + %s THEN n.occurred_at "
    "ELSE r.occurred_at + %s END, "
    "CASE WHEN n.occurred_at < r.occurred_at + %s AND n.direction = 'out' THEN 'out' "
    "ELSE 'cap' END, "
    "CASE WHEN n.occurred_at < r.occurred_at + %s AND n.direction = 'out' THEN n.id END "
    "FROM r LEFT JOIN LATERAL (SELECT g.id, g.occurred_at, g.direction FROM registrations g "
    "WHERE g.person_hash = r.person_hash AND g.site_id = r.site_id "
    "AND g.decision = 'allow' AND g.direction IN ('in', 'out') "
    "AND (g.occurred_at > r.occurred_at OR (g.occurred_at = r.occurred_at "
    "AND (g.direction = 'out' OR g.id > r.id))) "
    "AND g.occurred_at < r.occurred_at + %s{id_bounds} "
    "ORDER BY g.occurred_at, g.direction, g.id LIMIT 1) n ON true "
    "ON CONFLICT (id) DO NOTHING)")
# The fast path's one "in": the lowest id the event after it can have (lookback.py), as a
# parameter, so PostgreSQL prunes the older day partitions when the statement starts.
_PG_OPEN_ONE = _PG_OPEN.format(id_bounds=" AND g.id >= %s")


def pg_fast_ctes(registration: Registration, site_kind: str) -> tuple[str, tuple[Any, ...]]:
    """The CTEs (", ..." text to append after the CTE "r") and their parameters."""
    if not _counts(registration, site_kind):
        return "", ()
    cap = cap_for(site_kind)
    if registration.direction == "out":
        return ", " + _PG_END["out"], (cap,)
    at = registration.occurred_at
    return ", " + _PG_END["in"] + ", " + _PG_OPEN_ONE, (
        cap, cap, cap, cap, cap, cap, lookback.ids_from(at))


# PostgreSQL, many new rows at once (registrations.imports, batch upload). Storing new
# events never removes an "in", so it changes only two kinds of stays (the module's
# docstring): the new "in"s' own, and an older "in"'s whose next event is now a new
# row. That older "in" lies less than a cap before the new row (a next event at or past
# the cap leaves the stay ending at its cap), so for each (person, site) pair the new
# rows touch, the "in"s from a cap before its earliest new row to its latest are all
# that can change. One statement per chunk: the pairs (grouped from the new rows, each
# with its site kind's cap), one read a pair of its allowed in/out from a cap before
# its earliest new row to a cap after its latest (the event after any "in" that can
# change lies in it), the event after each "in" from lead() in the order of _ORDER,
# "in" before "out" at one instant, and an upsert of those "in"s' stays by their id
# (the "in"'s id) that writes only what differs: a new "in"'s stay, or an older stay's
# new end. The rule is _stay_values' (and _PG_OPEN's), with the pair's own cap.
# This replaced a read of each pair's stays to find its scope, a delete of every stay
# in the scope and their insertion anew (~6 us of server CPU an imported row of the
# ~16 keeping stays took, measured on the import benchmark).
# Reading the partitioned table itself, each pair also gets the lowest id its events can
# have (lookback.py: the id floor of its start less ID_SLACK), so the read skips the day
# partitions older than the pair's start (run-time pruning: the bound is the outer
# row's, a parameter of the inner scan); see _PG_ID_FLOOR.
# The site is compared as text so that no index can start with it: right after a bulk
# load a partition's statistics are stale and the planner took (site_id, occurred_at),
# reading every row of the site in the span for each pair (43 rows to find one,
# measured); by person it reads that person's few. LATERAL with OFFSET 0 keeps one index
# probe per pair whatever the (stale) statistics say.
_PG_UPSERT = (
    "WITH m AS (SELECT n.person_hash, n.site_id, min(n.occurred_at) FILTER (WHERE {moves}) "
    "- c.cap AS start_at, max(n.occurred_at) FILTER (WHERE {moves}) AS last_at, c.cap "
    "FROM {rows} n JOIN sites t ON t.id = n.site_id "
    "JOIN unnest(%s::text[], %s::interval[]) AS c (kind, cap) ON c.kind = t.kind "
    "GROUP BY n.person_hash, n.site_id, c.cap HAVING bool_or({moves})), "
    "e AS (SELECT p.person_hash, p.site_id, p.cap, p.start_at, p.last_at, g.id, "
    "g.occurred_at, g.direction, lead(g.id) OVER w AS n_id, "
    "lead(g.occurred_at) OVER w AS n_at, lead(g.direction) OVER w AS n_dir FROM m p "
    "CROSS JOIN LATERAL (SELECT g.id, g.occurred_at, g.direction "
    "FROM {registrations} g WHERE g.person_hash = p.person_hash "
    "AND g.site_id::text = p.site_id::text "
    "AND g.decision = 'allow' AND g.direction IN ('in', 'out') "
    "AND g.occurred_at >= p.start_at AND g.occurred_at < p.last_at + p.cap "
    "{id_floor} OFFSET 0) g "
    "WINDOW w AS (PARTITION BY p.person_hash, p.site_id "
    "ORDER BY g.occurred_at, g.direction, g.id)), "
    "ins AS (INSERT INTO stays AS s (id, person_hash, site_id, started_at, ended_at, "
    "closed_by, out_registration_id) SELECT e.id, e.person_hash, e.site_id, e.occurred_at, "
    "CASE WHEN e.n_at < e.occurred_at + e.cap THEN e.n_at ELSE e.occurred_at + e.cap END, "
    "CASE WHEN e.n_at < e.occurred_at + e.cap AND e.n_dir = 'out' THEN 'out' ELSE 'cap' END, "
    "CASE WHEN e.n_at < e.occurred_at + e.cap AND e.n_dir = 'out' THEN e.n_id END "
    "FROM e WHERE e.direction = 'in' AND e.occurred_at <= e.last_at "
    "ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, "
    "closed_by = excluded.closed_by, out_registration_id = excluded.out_registration_id "
    "WHERE (s.ended_at, s.closed_by, s.out_registration_id) IS DISTINCT FROM "
    "(excluded.ended_at, excluded.closed_by, excluded.out_registration_id) "
    "RETURNING 1) SELECT count(*) FROM ins")
# Which new rows make stays. In FILTER and HAVING, not WHERE: a staging table has no
# statistics, and the default selectivity of these conditions made the planner expect
# 1% of its rows and join them to the sites by a nested loop (every row compared with
# every site: 35 ms of a 10,000-row chunk's 230); unfiltered, it hashes the sites.
_PG_NEW_MOVES = ("n.decision = 'allow' AND n.direction IN ('in', 'out') "
                 "AND n.person_hash IS NOT NULL")
# Reading the partitioned table itself (no partition spans known), the lowest id a
# pair's events can have lets PostgreSQL skip the older day partitions per pair. Reading
# the partitions named by _pg_moves, nothing is pruned by it (a UNION ALL of tables, or
# one table): it would only be computed and compared for every row read.
_PG_ID_FLOOR = "AND g.id >= " + lookback.pg_ids_from("p.start_at")
# The span of occurrences the new rows cover (for the partitions to read).
_PG_SPAN = "SELECT min(occurred_at), max(occurred_at) FROM {rows} n"


def pg_after_rows(session: Session, *, new_rows: str,
                  params: tuple[Any, ...] = ()) -> int:
    """Keep the stays after many new registrations on PostgreSQL, set-based.

    `new_rows` names a (temporary) table of the new registrations in this transaction,
    with at least person_hash, site_id, occurred_at, direction and decision, or is a
    parenthesised query of those columns taking `params`. What the ORM path of
    after_batch does for one site, for any sites, in two statements whatever the
    number of rows and caps. Takes the audit chain's lock (see the module's docstring).
    Returns how many stays it wrote (new, or with a new end).
    """
    session.flush()
    chain.lock_head(session)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    kinds = sorted(STAY_KINDS)
    with raw.cursor() as cur:
        # No JIT (this transaction only): the read below spans every day partition, its
        # estimated cost passes jit_above_cost, and compiling its 345 functions took 5.2 s
        # of a 5.5 s statement on 34 partitions (tracing/contacts.no_jit saw the same).
        cur.execute("SET LOCAL jit = off")
        cur.execute(_PG_SPAN.format(rows=new_rows), params)
        span = cur.fetchone()
        first: datetime | None = span[0] if span else None
        last: datetime | None = span[1] if span else None
        if first is None or last is None:
            return 0
        longest = _longest_cap()
        moves = _pg_moves(session, first - longest, last + longest)
        cur.execute(_PG_UPSERT.format(
            rows=new_rows, moves=_PG_NEW_MOVES, registrations=moves,
            id_floor=_PG_ID_FLOOR if moves == partitions.TABLE else ""),
            (*params, kinds, [cap_for(k) for k in kinds]))
        row = cur.fetchone()
    return int(row[0]) if row else 0


def _pg_moves(session: Session, lo: datetime, hi: datetime) -> str:
    """The day partitions that can hold moves in the scope (partitions.relation).

    The id floor prunes from below only (an id may be made long after its occurrence,
    lookback.py), so an import of last year's paper registers would still probe every
    day partition for every pair: ~35 index probes a pair, most of an import's time on
    a loaded table. Only the partitions whose rows occurred in the scope's span are
    read. The new rows were inserted before, in this transaction: their partitions are
    among those kept.

    Race: a row committed by another writer after the spans are read and before the
    stays statement would be missed; every writer of registrations that keeps stays
    holds the audit chain's lock (taken by pg_after_rows before this), so none can.
    """
    return partitions.relation(partitions.occurrence_spans(session), lo, hi,
                               "id, person_hash, site_id, occurred_at, direction, decision")


def _events(*, site_ids: Collection[uuid.UUID] | None,
            person_hashes: Collection[str] | None, since: datetime | None) -> Select[Any]:
    """The allowed in/out events in scope, each with the next one (same person, same site)."""
    parts = (Registration.person_hash, Registration.site_id)
    order = _ORDER
    stmt: Select[Any] = (select(Registration.person_hash, Registration.site_id, Registration.id,
                   Registration.occurred_at, Registration.direction,
                   func.lead(Registration.id, type_=Registration.id.type)
                   .over(partition_by=parts, order_by=order).label("n_id"),
                   func.lead(Registration.occurred_at, type_=Registration.occurred_at.type)
                   .over(partition_by=parts, order_by=order).label("n_at"),
                   func.lead(Registration.direction)
                   .over(partition_by=parts, order_by=order).label("n_dir"),
                   Site.kind)
            .join(Site, Site.id == Registration.site_id)
            .where(_allowed_moves(), Registration.person_hash.is_not(None),
                   Site.kind.in_(sorted(STAY_KINDS))))
    if site_ids is not None:
        stmt = stmt.where(Registration.site_id.in_(list(site_ids)))
    if person_hashes is not None:
        stmt = stmt.where(Registration.person_hash.in_(list(person_hashes)))
    if since is not None:
        stmt = stmt.where(Registration.occurred_at >= since)
    return stmt


def _recompute(session: Session, *, site_ids: Collection[uuid.UUID] | None,
               person_hashes: Collection[str] | None, start: datetime | None) -> int:
    """Replace the stays in scope that began at `start` or later (all if None)."""
    rows = []
    for r in session.execute(_events(site_ids=site_ids, person_hashes=person_hashes,
                                     since=start)):
        if r.direction != "in":
            continue
        following = _Event(r.n_id, r.n_at, r.n_dir) if r.n_id is not None else None
        rows.append(_stay_values(_Event(r.id, r.occurred_at, "in"), following,
                                 person_hash=r.person_hash, site_id=r.site_id,
                                 cap=cap_for(r.kind)))
    gone = delete(Stay)
    if site_ids is not None:
        gone = gone.where(Stay.site_id.in_(list(site_ids)))
    if person_hashes is not None:
        gone = gone.where(Stay.person_hash.in_(list(person_hashes)))
    if start is not None:
        gone = gone.where(Stay.started_at >= start)
    session.execute(gone.execution_options(synchronize_session=False))
    for chunk in _chunks(rows, 1000):
        session.execute(insert(Stay), chunk)
    return len(rows)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def rebuild(session: Session, *, person_hashes: Collection[str] | None = None,
            since: datetime | None = None) -> int:
    """Recompute stays from the registrations (all, or some persons, or from a time on).

    For imports and anything stored without open_or_close. Idempotent: it yields what
    write-time upkeep yields. Returns how many stays it (re)wrote. A stay that began
    up to a cap before `since` is recomputed too: an event after `since` may end it.
    Holds the audit chain's lock until commit (see the module's docstring), so
    registrations wait for it: rebuild a few persons or a short time at once.
    """
    session.flush()
    chain.lock_head(session)
    # A stay that began a cap or more before `since` ended before it, and so did the
    # event after it: events from `since` on cannot change it.
    start = since - _longest_cap() if since is not None else None
    if person_hashes is None:
        return _recompute(session, site_ids=None, person_hashes=None, start=start)
    total = 0
    for chunk in _chunks(sorted(set(person_hashes)), 500):
        total += _recompute(session, site_ids=None, person_hashes=chunk, start=start)
    return total


def after_batch(session: Session, *, site: Site, rows: list[dict[str, Any]]) -> None:
    """Keep the stays after a batch of new registrations at one site (batch upload).

    Set-based: the affected persons' events at this site from their earliest new one
    (or the start of the stay containing it) are read in one statement, and the stays
    from there on replaced. A batch may hold an "in" and its "out", or an "in" whose
    "out" another lane uploaded before it. On PostgreSQL the stays are computed by the
    database (pg_after_rows) from each person's first and last new move; SQLite builds
    the same rows in Python (_after_batch_orm).
    """
    if not makes_stays(site.kind):
        return
    moves = [r for r in rows if r["decision"] == "allow" and r["direction"] in ("in", "out")
             and r["person_hash"] is not None]
    if not moves:
        return
    if session.get_bind().dialect.name != "postgresql":
        _after_batch_orm(session, site=site, moves=moves)
        return
    # The scope of a person's stays depends only on their earliest and latest new move
    # (_PG_SCOPE): two rows a person say it, not every row of the batch.
    spans: dict[str, list[datetime]] = {}
    for r in moves:
        at, span = r["occurred_at"], spans.get(r["person_hash"])
        if span is None:
            spans[r["person_hash"]] = [at, at]
        elif at < span[0]:
            span[0] = at
        elif at > span[1]:
            span[1] = at
    persons = list(spans)
    pg_after_rows(session, new_rows=_PG_BATCH_MOVES, params=(
        site.id, [*persons, *persons],
        [s[0] for s in spans.values()] + [s[1] for s in spans.values()]))


# A batch's moves for pg_after_rows: each person's first and last, all at the batch's site.
_PG_BATCH_MOVES = ("(SELECT u.person_hash, %s::uuid AS site_id, u.occurred_at, "
                   "'in'::text AS direction, 'allow'::text AS decision "
                   "FROM unnest(%s::text[], %s::timestamptz[]) AS u (person_hash, occurred_at))")


def _after_batch_orm(session: Session, *, site: Site, moves: list[dict[str, Any]]) -> None:
    """after_batch on SQLite: the events read once, each stay built in Python."""
    chain.lock_head(session)  # normally held already, by the batch's audit entry
    since = min(r["occurred_at"] for r in moves)
    persons = sorted({r["person_hash"] for r in moves})
    cap = cap_for(site.kind)
    for chunk in _chunks(persons, 500):
        # A new row can change only a stay that ends after it (and so after `since`, the
        # earliest): one that ended by `since` ended, with the event after it, before
        # every new row. So recompute from the earliest stay still running at `since`.
        containing = session.scalar(select(func.min(Stay.started_at)).where(
            Stay.site_id == site.id, Stay.person_hash.in_(chunk),
            Stay.started_at > since - cap, Stay.ended_at >= since))
        start = min(containing, since) if containing is not None else since
        _recompute(session, site_ids=[site.id], person_hashes=chunk, start=start)


def stays_of(session: Session, person_hash: str) -> list[Stay]:
    """A person's stays, oldest first (for tests and the case timeline)."""
    return list(session.scalars(select(Stay).where(Stay.person_hash == person_hash)
                                .order_by(Stay.started_at)))


