"""A compound's gate on PostgreSQL: one pipelined read, one write statement, same decisions.

The generic path (registrations.service.register with gate.gather and gate.record,
ORM, one thread hop) stays the reference and runs on SQLite. On PostgreSQL a gate
check runs on the event loop like the road checkpoint's (registrations/fastpath.py),
in one transaction of two round trips:

1. BEGIN, the household's row lock (going out), then one read of everything the
   rules need: the retried registration (if any), the pass and its holder (or the
   person and their passes), the resident with their flat and the household's
   outings (members out, outings in the window, their own open outing);
2. the chain's lock, then one statement that inserts the registration, closes and
   opens the outing, keeps the stays and appends the chained audit entry (CTEs),
   then COMMIT.

The decision, the notes and the stored rows are the generic path's own functions
(service.prepare, pick_best_pass, finish, decide; gate.notes), so both paths decide
alike. A visitor's pass (its visit row is locked and marked), a retry of a refused
request and a gate of an unregistered compound go the generic path in a thread.

Race: two gates taking a household's last outing slot at once. The row lock is the
one gate.gather takes (SELECT ... FOR UPDATE on the household, so the two paths
serialise with each other too), in a statement before the counts: in READ COMMITTED
the counting statement's snapshot is taken after the lock was granted, so the
second gate counts the first one's outing and is refused.
tests/communities/test_gate_fast_path.py fails without the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from fastapi.concurrency import run_in_threadpool

from passtrace.audit import pg_append
from passtrace.communities.compounds.models import Community
from passtrace.communities.compounds.service import household_label
from passtrace.communities.outings import gate
from passtrace.core.cache import Miss
from passtrace.core.clock import utcnow
from passtrace.core.db import writing
from passtrace.core.errors import DomainError
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.registrations import fastpath, lookback, service, stays
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import RegistrationIn
from passtrace.rules import outings as outing_rules
from passtrace.rules.decide import GateFacts
from passtrace.sites.models import Site

_REG_COLUMNS = tuple(c.name for c in Registration.__table__.columns)
_SELECT_EXISTING = (f"SELECT {', '.join('r.' + c for c in _REG_COLUMNS)}, s.code "
                    "FROM registrations r LEFT JOIN sites s ON s.id = r.site_id WHERE r.id = %s")
_PASS = "p.id, p.valid_from, p.valid_until, p.areas, p.sites, p.status, p.purpose"
_PERSON = "pe.id, pe.id_hash, pe.name_masked, pe.id_masked, pe.status"
_SELECT_PASS = (f"SELECT {_PASS}, {_PERSON} FROM passes p "
                "JOIN people pe ON pe.id = p.person_id WHERE p.id = %s")
_SELECT_PERSON = f"SELECT {_PERSON} FROM people pe WHERE pe.id_hash = %s"
_SELECT_PASSES = (f"SELECT {_PASS} FROM passes p JOIN people pe ON pe.id = p.person_id "
                  "WHERE pe.id_hash = %s AND p.status = 'approved' AND p.valid_until > %s "
                  "ORDER BY p.valid_until DESC")
# The person checked, as a subquery: the pass's holder or the typed ID number's.
_BY_PASS = "(SELECT person_id FROM passes WHERE id = %s)"
_BY_HASH = "(SELECT id FROM people WHERE id_hash = %s)"
# gate.gather's lock_household: the same row lock, so the ORM path waits for this one too.
_LOCK_HOUSEHOLD = ("SELECT h.id FROM households h JOIN residents r ON r.household_id = h.id "
                   "WHERE r.community_id = %s AND r.person_id = {person} FOR UPDATE OF h")
# gate.gather's resident and counts (and usual_direction's "out now" for an auto check).
_RESIDENT = (
    "SELECT r.id, r.role, r.household_id, r.person_id, r.pass_id, b.name, h.unit, h.room, "
    "c.others_out, c.in_window, c.self_out, "
    "(SELECT count(*) FROM outings o WHERE o.person_id = r.person_id AND o.back_at IS NULL) "
    "FROM residents r JOIN households h ON h.id = r.household_id "
    "JOIN community_buildings b ON b.id = h.building_id "
    "CROSS JOIN LATERAL (SELECT "
    "count(*) FILTER (WHERE o.back_at IS NULL AND o.person_id <> r.person_id) AS others_out, "
    "count(*) FILTER (WHERE o.out_at >= %s) AS in_window, "
    "count(*) FILTER (WHERE o.back_at IS NULL AND o.person_id = r.person_id) AS self_out "
    "FROM outings o WHERE o.household_id = r.household_id) c "
    "WHERE r.community_id = %s AND r.person_id = {person}")
# Bounded as service.is_inside is (registrations/lookback.py).
_INSIDE = ("SELECT direction FROM registrations WHERE site_id = %s AND decision = 'allow' "
           "AND direction IN ('in', 'out') AND {who} AND occurred_at > %s AND id >= %s "
           "ORDER BY occurred_at DESC LIMIT 1")
_INSERT_REG = fastpath._INSERT_REG  # the checkpoint's: the columns an online check sets
# gate._resident_passed: an open outing is closed at any allowed pass, "out" opens one.
# Both read the inserted registration from "r": a retried id (nothing inserted) changes
# nothing.
_CLOSE_OUTING = (", o_close AS (UPDATE outings o SET back_at = r.occurred_at, "
                 "back_registration_id = r.id FROM r WHERE o.person_id = %s "
                 "AND o.community_id = %s AND o.back_at IS NULL)")
_OPEN_OUTING = (", o_open AS (INSERT INTO outings (id, community_id, household_id, person_id, "
                "out_at, out_registration_id) SELECT %s, %s, %s, %s, r.occurred_at, r.id "
                "FROM r)")


@dataclass
class _Read:
    """What the first round trip found."""

    existing: Any
    who: Any
    passes: list[Any]
    resident: Any


@dataclass
class _Queued:
    """A decision whose write was queued; its cursor answers once the transaction ends."""

    stored: psycopg.AsyncCursor[Any]
    checked: service.Checked


async def register(fast: fastpath.FastPath, *, rt: Runtime, actor: Principal,
                   data: RegistrationIn) -> service.Checked:
    """service.register at a compound's gate, on PostgreSQL: same decision, rows and audit."""
    site = service.cached_site(rt, data.site)
    if site is service.MISS:
        site = await run_in_threadpool(fastpath._load_site, rt, data.site)
    trust = service.cached_trust_store(rt)
    if trust is None and data.token:
        trust = await run_in_threadpool(fastpath._load_trust_store, rt)
    try:
        prep = service.prepare(rt=rt, actor=actor, data=data, site=site,
                               trust=lambda: trust)  # type: ignore[arg-type,return-value]
    except DomainError:
        return await _generic(rt, actor, data)  # a retry of a stored one, or the refusal
    c = gate.cached_community(rt.engine, prep.site.community_code)
    if isinstance(c, Miss):
        c = await run_in_threadpool(_load_community, rt, prep.site)
    if c is None:  # a gate of a compound not registered: nothing of the compound's applies
        return await _generic(rt, actor, data)
    rules = outing_rules.rules_of(c)
    person_sql, person_param = ((_BY_PASS, prep.pass_id) if prep.pass_id is not None
                                else (_BY_HASH, prep.id_hash))

    async def work(conn: psycopg.AsyncConnection[Any]) -> service.Checked | None:
        async with conn.pipeline() as p:
            async with conn.transaction():
                c_existing = await conn.execute(_SELECT_EXISTING, (data.id,))
                c_who = c_passes = c_resident = None
                if person_param is not None:
                    if prep.pass_id is not None:
                        c_who = await conn.execute(_SELECT_PASS, (prep.pass_id,))
                    else:
                        c_who = await conn.execute(_SELECT_PERSON, (prep.id_hash,))
                        c_passes = await conn.execute(_SELECT_PASSES, (prep.id_hash, prep.now))
                    if data.direction != "in":  # going out (or maybe: "auto")
                        await conn.execute(_LOCK_HOUSEHOLD.format(person=person_sql),
                                           (c.id, person_param))
                    c_resident = await conn.execute(
                        _RESIDENT.format(person=person_sql),
                        (outing_rules.window_start(rules, prep.now), c.id, person_param))
                await p.sync()  # the one read round trip
                read = _Read(existing=await c_existing.fetchone(),
                             who=await c_who.fetchone() if c_who else None,
                             passes=await c_passes.fetchall() if c_passes else [],
                             resident=await c_resident.fetchone() if c_resident else None)
                if read.existing is not None:
                    return fastpath._duplicate(actor, read.existing)
                queued = await _decide_and_queue(conn, actor=actor, data=data, prep=prep, c=c,
                                                 rules=rules, read=read)
                if queued is None:
                    return None
            # Committed: the write and COMMIT went in one round trip.
            if await queued.stored.fetchone() is None:  # a concurrent retry stored it first
                found = await (await conn.execute(_SELECT_EXISTING, (data.id,))).fetchone()
                assert found is not None  # ON CONFLICT met a committed row
                return fastpath._duplicate(actor, found)
            return queued.checked

    done = await fast.run(work)
    if done is None:  # a visitor: the generic path locks and marks the visit
        return await _generic(rt, actor, data)
    return done


async def _decide_and_queue(conn: psycopg.AsyncConnection[Any], *, actor: Principal,
                            data: RegistrationIn, prep: service.Prepared, c: Community,
                            rules: outing_rules.OutingRules, read: _Read) -> _Queued | None:
    """Decide from what was read and queue the one write; None for a visitor's pass."""
    person = pass_row = None
    if prep.pass_id is not None and read.who is not None:
        pass_row, person = _pass_row(read.who[:7]), fastpath._person_row(read.who[7:])
    elif prep.id_hash is not None and read.who is not None:
        person = fastpath._person_row(read.who)
        pass_row = service.pick_best_pass([_pass_row(p) for p in read.passes], prep.site,
                                          prep.now)
    ctx = gate.GateContext(community=c, rules=rules, facts=GateFacts(),
                           person_id=person.id if person is not None else None)
    res = read.resident if person is not None else None
    if res is None and pass_row is not None and pass_row.purpose == "visitor":
        return None
    direction = data.direction
    if res is not None:
        # A plain row, not an ORM instance (gate.notes and _write read its fields).
        ctx.resident = fastpath._Row(  # type: ignore[assignment]
            id=res[0], role=res[1], household_id=res[2], person_id=res[3], pass_id=res[4],
            community_id=c.id)
        ctx.household = household_label(res[5], res[6], res[7])
        if direction == "auto":  # gate.usual_direction: a resident who is out comes in
            direction = "in" if res[11] else "out"
        out = direction == "out"
        if out:
            ctx.already_out = bool(res[10])
        ctx.facts = GateFacts(
            resident=True, curfew=outing_rules.in_curfew(rules, prep.now),
            members_out=res[8] if out else 0, max_out=rules.max_out_per_household,
            outings_used=res[9] if out else 0, outings_allowed=rules.outings_per_window)
        inside = False
    else:
        direction = "in" if direction == "auto" else direction
        inside = await _inside(conn, prep.site, person, pass_row, prep.id_hash,
                               since=service.inside_since(prep.site, prep.now))
    if direction != data.direction:
        data = data.model_copy(update={"direction": direction})
    row, detail = service.finish(prep=prep, data=data, actor=actor, person=person,
                                 pass_row=pass_row, inside=inside, gate=ctx.facts,
                                 row_type=fastpath._plain_registration)
    sql, params = _write(row, detail, actor=actor, person=person, ctx=ctx,
                         site_kind=prep.site.kind)
    await conn.execute(pg_append.LOCK_CHAIN, pg_append.LOCK_CHAIN_PARAMS)
    stored = await conn.execute(sql, params)
    return _Queued(stored, service.Checked(row=row, duplicate=False, notes=gate.notes(
        ctx, direction=row.direction, allowed=row.decision == "allow", now=prep.now)))


def _pass_row(values: tuple[Any, ...]) -> Any:
    """fastpath's pass row, with the purpose (a visitor's pass goes the generic path)."""
    return fastpath._Row(**vars(fastpath._pass_row(values[:6])), purpose=values[6])


async def _inside(conn: psycopg.AsyncConnection[Any], site: Site, person: Any, pass_row: Any,
                  id_hash: str | None, *, since: datetime) -> bool:
    """service.is_inside, for someone who is not a resident (a refused, rare case)."""
    person_hash = person.id_hash if person is not None else id_hash
    if person_hash is not None:
        who, value = "person_hash = %s", person_hash
    elif pass_row is not None:
        who, value = "pass_id = %s", pass_row.id
    else:
        return False
    last = await (await conn.execute(_INSIDE.format(who=who), (
        site.id, value, since, lookback.ids_from(since)))).fetchone()
    return last is not None and last[0] == "in"


def _write(row: Registration, detail: dict[str, Any], *, actor: Principal, person: Any,
           ctx: gate.GateContext, site_kind: str) -> tuple[str, tuple[Any, ...]]:
    """The one write statement: registration, outing, stays and audit entry (CTEs)."""
    sql = _INSERT_REG
    params = fastpath.online_values(row)
    r = ctx.resident
    if r is not None and row.decision == "allow" and row.direction in ("in", "out"):
        # As gate._resident_passed: an "out" of someone not out has nothing to close.
        if not (row.direction == "out" and ctx.already_out is False):
            sql += _CLOSE_OUTING
            params += [r.person_id, ctx.community.id]
        if row.direction == "out":
            sql += _OPEN_OUTING
            params += [uuid7(), ctx.community.id, r.household_id, r.person_id]
    stay_sql, stay_params = stays.pg_fast_ctes(row, site_kind)
    audit = {"at": utcnow(), "actor_user_id": actor.user_id, "actor_name": actor.username,
             "action": "registration.create", "resource_type": "registration",
             "resource_id": str(row.id),
             "subject_person_id": person.id if person is not None else None,
             "reason": None, "detail": detail, "ip": actor.ip}
    head_params, audit_params = pg_append.params(audit)
    sql += stay_sql + ", " + pg_append.HEAD_CTE + pg_append.insert_sql("r")
    return sql, (*params, *stay_params, *head_params, *audit_params)


def _load_community(rt: Runtime, site: Site) -> Community | None:
    session = rt.sessions()
    try:
        return gate.community_of(session, site)  # and kept in its cache
    finally:
        session.close()


def _generic_in_session(rt: Runtime, actor: Principal, data: RegistrationIn
                        ) -> service.Checked:
    session = rt.sessions(info=writing())
    try:
        checked = service.register(session=session, rt=rt, actor=actor, data=data)
        session.commit()
        return checked
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def _generic(rt: Runtime, actor: Principal, data: RegistrationIn) -> service.Checked:
    """The ORM path in a thread (visitors, a compound not yet cached, refusals, retries)."""
    return await run_in_threadpool(_generic_in_session, rt, actor, data)
