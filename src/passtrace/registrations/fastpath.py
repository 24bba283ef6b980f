"""The single-registration hot path on PostgreSQL: async psycopg, two statements.

The generic path (service.register, ORM, one thread hop) stays the reference and
runs on SQLite. On PostgreSQL a checkpoint check is instead done on the event loop:

1. one statement reads whether the id is stored already (a retry), the pass and
   its holder (or the person and their passes) and whether they are inside;
2. one short transaction takes the audit chain's lock, reads its head and inserts
   the registration and its chained audit entry together (so both commit, or
   neither, before the response is sent); the checks that arrive meanwhile are
   written together in the next such transaction (groupcommit.py).

Validation, verification and the decision are the service's own functions
(prepare, pick_best_pass, finish, decide), so both paths decide alike. Sites and
the trust store come from the same few-second caches; a miss is filled in a thread
through the ORM.

It needs its own connections, so it only runs when sessions use the engine's pool
directly (not when they are bound to one outer connection, as in the test suite).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from typing import Any

import orjson
import psycopg
from fastapi.concurrency import run_in_threadpool
from psycopg.pq import TransactionStatus
from sqlalchemy.exc import DBAPIError

from passtrace.core.clock import utcnow
from passtrace.core.errors import DomainError, NotFound
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.registrations import groupcommit, lookback, service, stays
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import RegistrationIn
from passtrace.sites import authz as site_authz

POOL_SIZE = 20  # connections per worker (event loop), like the engine's pool
RECYCLE_SECONDS = 1800.0

_REG_COLUMNS = tuple(c.name for c in Registration.__table__.columns)
_SELECT_EXISTING = (f"SELECT {', '.join('r.' + c for c in _REG_COLUMNS)}, s.code "
                    "FROM registrations r LEFT JOIN sites s ON s.id = r.site_id WHERE r.id = %s")
_PASS_COLUMNS = "p.id, p.valid_from, p.valid_until, p.areas, p.sites, p.status"
_PERSON_COLUMNS = "pe.id, pe.id_hash, pe.name_masked, pe.id_masked, pe.status"
# The whole read of a check is one statement returning one row (a typed ID number:
# one per approved pass): whether the id is stored already (a retry, read in full
# only then), the holder's last allowed in/out here (service.is_inside; literal
# predicates, so it uses the partial index ix_registrations_inside even in a
# prepared plan), then the pass and its holder, or the person and their passes.
_STORED = "EXISTS (SELECT 1 FROM registrations WHERE id = %s)"
# Bounded as service.is_inside is: moves after one stay cap ago (inside_since), in the ids
# that can hold them, so of the day partitions (partitions.py) only the last few are read
# (lookback.py); parameters: site, [hash,] since, lowest id.
_LAST_MOVE = ("(SELECT direction FROM registrations WHERE site_id = %s AND decision = 'allow' "
              "AND direction IN ('in', 'out') AND person_hash = {hash} "
              "AND occurred_at > %s AND id >= %s ORDER BY occurred_at DESC LIMIT 1)")
# Only an "in" asks whether the person is inside already (rules/decide.py): an "out" or
# a "through" skips the read.
_NO_MOVE = "NULL::text"


def _lookups(move: str) -> tuple[str, str]:
    by_pass = (f"SELECT {_STORED}, {move.format(hash='pe.id_hash')}, {_PASS_COLUMNS}, "
               f"{_PERSON_COLUMNS} FROM (SELECT 1) AS one LEFT JOIN passes p ON p.id = %s "
               "LEFT JOIN people pe ON pe.id = p.person_id")
    by_hash = (f"SELECT {_STORED}, {move.format(hash='%s')}, {_PERSON_COLUMNS}, "
               f"{_PASS_COLUMNS} FROM (SELECT 1) AS one LEFT JOIN people pe ON pe.id_hash = %s "
               "LEFT JOIN passes p ON p.person_id = pe.id AND p.status = 'approved' "
               "AND p.valid_until > %s ORDER BY p.valid_until DESC")
    return by_pass, by_hash


_LOOKUP_BY_PASS, _LOOKUP_BY_HASH = _lookups(_LAST_MOVE)
_LOOKUP_BY_PASS_ONLY, _LOOKUP_BY_HASH_ONLY = _lookups(_NO_MOVE)
_LOOKUP_STORED = f"SELECT {_STORED}, NULL"
_JSON_COLUMNS = frozenset({"reasons"})
# What only an upload, an override or an import sets: an online check leaves them NULL,
# so they are left out of its INSERT. Fewer parameters: a statement of more than 50
# psycopg parses again at every execution (about 0.3 ms for the gate's write).
_NOT_ONLINE = frozenset({"device_decision", "device_reasons", "disagreement",
                         "override_reason", "override_by", "external_id"})
_ONLINE_COLUMNS = tuple(c for c in _REG_COLUMNS if c not in _NOT_ONLINE)
_INSERT_REG = (
    f"WITH r AS (INSERT INTO registrations ({', '.join(_ONLINE_COLUMNS)}) VALUES ("
    + ", ".join("%s::json" if c in _JSON_COLUMNS else "%s" for c in _ONLINE_COLUMNS)
    + ") ON CONFLICT (id) DO NOTHING RETURNING id, person_hash, site_id, occurred_at)")


def online_values(row: Any) -> list[Any]:
    """The INSERT's parameters for a row an online check built (service.finish)."""
    if any(getattr(row, c) is not None for c in _NOT_ONLINE):
        raise ValueError("an online check's registration sets no upload or override field")
    return [orjson.dumps(getattr(row, c)).decode() if c in _JSON_COLUMNS
            else getattr(row, c) for c in _ONLINE_COLUMNS]
# Between the two: the stays' CTEs (registrations/stays.py), so keeping stays costs
# no extra round trip.
_INSERT_AUDIT = (
    f" INSERT INTO audit_entries ({', '.join(groupcommit.AUDIT_COLUMNS)}) SELECT "
    + ", ".join("%s::json" if c == "detail" else "%s" for c in groupcommit.AUDIT_COLUMNS)
    + " FROM r RETURNING id")


class _Row:
    """A plain row with attribute access (what pick_best_pass and finish read)."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:  # fields live in __dict__; this types them
        raise AttributeError(name)


_UNSET = dict.fromkeys(_REG_COLUMNS)


def _plain_registration(**fields: Any) -> Any:
    """A registration row as service.finish builds it, without the ORM's instrumentation
    (about 50 µs a check): every column readable, None where the ORM's would be."""
    return _Row(**{**_UNSET, **fields})


def _pass_row(values: tuple[Any, ...]) -> _Row:
    return _Row(id=values[0], valid_from=values[1].astimezone(UTC),
                valid_until=values[2].astimezone(UTC), areas=values[3] or [],
                sites=values[4] or [], status=values[5])


def _person_row(values: tuple[Any, ...]) -> _Row:
    # Person.id_last4 is the last 4 characters of id_masked.
    return _Row(id=values[0], id_hash=values[1], name_masked=values[2],
                id_last4=values[3][-4:], status=values[4])


def _registration(values: tuple[Any, ...]) -> Registration:
    """A stored registration, read back as the ORM would present it (detached)."""
    fields = dict(zip(_REG_COLUMNS, values, strict=False))
    for name in ("occurred_at", "received_at"):
        fields[name] = fields[name].astimezone(UTC)
    if fields["temperature"] is not None:
        fields["temperature"] = float(fields["temperature"])
    return Registration(**fields)


class _LoopPool:
    """Autocommit connections for one event loop; no pre-ping, recycled by age."""

    def __init__(self, conninfo: str, size: int) -> None:
        self.conninfo = conninfo
        self.idle: deque[tuple[psycopg.AsyncConnection[Any], float]] = deque()
        self.slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def connection(self, fresh: bool = False
                         ) -> AsyncIterator[tuple[psycopg.AsyncConnection[Any], bool]]:
        """Lend a connection and whether it was reused (a reused one may have died)."""
        async with self.slots:
            now = time.monotonic()
            conn, born, reused = None, now, False
            while self.idle and not fresh:
                conn, born = self.idle.pop()
                if born + RECYCLE_SECONDS > now and not conn.closed:
                    reused = True
                    break
                await conn.close()
                conn = None
            if conn is None:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            healthy = False
            try:
                yield conn, reused
                healthy = True
            finally:
                if (healthy and not conn.closed and not conn.broken
                        and conn.info.transaction_status == TransactionStatus.IDLE):
                    self.idle.append((conn, born))
                else:
                    await conn.close()

    async def close(self) -> None:
        while self.idle:
            conn, _ = self.idle.pop()
            await conn.close()


class FastPath:
    """The PostgreSQL registration path of one runtime (a pool per event loop)."""

    def __init__(self, rt: Runtime) -> None:
        url = rt.engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = (
            weakref.WeakKeyDictionary())
        self.writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                                groupcommit.GroupWriter] = (
            weakref.WeakKeyDictionary())

    def pool(self) -> _LoopPool:
        loop = asyncio.get_running_loop()
        pool = self.pools.get(loop)
        if pool is None:
            pool = self.pools[loop] = _LoopPool(self.conninfo, POOL_SIZE)
        return pool

    def writer(self) -> groupcommit.GroupWriter:
        """The group committer of this event loop (see groupcommit.py)."""
        loop = asyncio.get_running_loop()
        writer = self.writers.get(loop)
        if writer is None:
            writer = self.writers[loop] = groupcommit.GroupWriter(self.run)
        return writer

    async def run(self, work: Any) -> Any:
        """Run `work(conn)`; a reused connection found dead is replaced once.

        Database errors are raised as SQLAlchemy's, so the app translates them
        exactly as on the generic path.
        """
        try:
            for attempt in (0, 1):
                async with self.pool().connection(fresh=attempt > 0) as (conn, reused):
                    try:
                        return await work(conn)
                    except psycopg.OperationalError:
                        if reused and attempt == 0 and (conn.broken or conn.closed):
                            continue
                        raise
        except psycopg.Error as exc:
            raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
        raise AssertionError("unreachable")

    async def close(self) -> None:
        pool = self.pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()


def for_runtime(rt: Runtime) -> FastPath | None:
    """The fast path if this runtime can use it (PostgreSQL, sessions on the engine)."""
    fast = rt.cache.get("registration_fast_path")
    if fast is None:
        usable = (rt.engine.dialect.name == "postgresql"
                  and rt.sessions.kw.get("bind") is rt.engine)
        fast = rt.cache["registration_fast_path"] = FastPath(rt) if usable else False
    return fast or None  # type: ignore[return-value]


def _load_site(rt: Runtime, code: str) -> Any:
    session = rt.sessions()
    try:
        return service.load_site(session, rt, code)
    finally:
        session.close()


def _load_trust_store(rt: Runtime) -> Any:
    session = rt.sessions()
    try:
        return service.load_trust_store(session, rt)
    finally:
        session.close()


async def _read_stored(fast: FastPath, registration_id: Any) -> Any:
    async def read(conn: psycopg.AsyncConnection[Any]) -> Any:
        return await (await conn.execute(_SELECT_EXISTING, (registration_id,))).fetchone()

    return await fast.run(read)


async def _stored_before(fast: FastPath, actor: Principal,
                         registration_id: Any) -> service.Checked:
    found = await _read_stored(fast, registration_id)
    if found is None:  # retention drops only rows weeks old: not between two reads
        raise NotFound("No such registration.")
    return _duplicate(actor, found)


def _duplicate(actor: Principal, values: tuple[Any, ...]) -> service.Checked:
    code = values[-1]
    if code is None or not site_authz.is_staff_at(actor, code):
        raise NotFound("No such registration.")
    return service.Checked(row=_registration(values[:-1]), duplicate=True)


async def is_community_gate(rt: Runtime, code: str) -> bool:
    """Tell whether a site is a compound's gate (cached like every site lookup)."""
    site = service.cached_site(rt, code)
    if site is service.MISS:
        site = await run_in_threadpool(_load_site, rt, code)
    return site is not None and bool(site.community_code)


async def register(fast: FastPath, *, rt: Runtime, actor: Principal,
                   data: RegistrationIn) -> service.Checked:
    """service.register, on PostgreSQL: same checks, decision, storage and audit."""
    site = service.cached_site(rt, data.site)
    if site is service.MISS:
        site = await run_in_threadpool(_load_site, rt, data.site)
    trust = service.cached_trust_store(rt)
    if trust is None and data.token:
        trust = await run_in_threadpool(_load_trust_store, rt)
    try:
        prep = service.prepare(rt=rt, actor=actor, data=data, site=site,
                               trust=lambda: trust)  # type: ignore[arg-type,return-value]
    except DomainError:
        # A retry of a stored registration returns it even if the request is now
        # refused (the site closed, the duty ended for another site...).
        found = await _read_stored(fast, data.id)
        if found is not None:
            return _duplicate(actor, found)
        raise

    params: tuple[Any, ...]
    entering = data.direction == "in"
    since = service.inside_since(prep.site, prep.now)
    window = (since, lookback.ids_from(since))
    if prep.pass_id is not None:
        sql = _LOOKUP_BY_PASS if entering else _LOOKUP_BY_PASS_ONLY
        move: tuple[Any, ...] = (prep.site.id, *window) if entering else ()
        params = (data.id, *move, prep.pass_id)
    elif prep.id_hash is not None:
        sql = _LOOKUP_BY_HASH if entering else _LOOKUP_BY_HASH_ONLY
        move = (prep.site.id, prep.id_hash, *window) if entering else ()
        params = (data.id, *move, prep.id_hash, prep.now)
    else:  # a rejected pass: nobody to look up
        sql, params = _LOOKUP_STORED, (data.id,)

    async def lookup(conn: psycopg.AsyncConnection[Any]) -> list[tuple[Any, ...]]:
        return await (await conn.execute(sql, params)).fetchall()

    rows = await fast.run(lookup)
    if rows[0][0]:  # stored already: a retry gets the first answer
        return await _stored_before(fast, actor, data.id)
    person = pass_row = None
    last = rows[0][1]
    if prep.pass_id is not None and rows[0][2] is not None:
        pass_row = _pass_row(rows[0][2:8])
        person = _person_row(rows[0][8:]) if rows[0][8] is not None else None
    elif prep.id_hash is not None and rows[0][2] is not None:
        person = _person_row(rows[0][2:7])
        pass_row = service.pick_best_pass([_pass_row(r[7:]) for r in rows if r[7] is not None],
                                          prep.site, prep.now)
    # is_inside: nothing to look for with neither a holder's hash nor a known pass.
    inside = last == "in" and (person is not None or prep.id_hash is not None)
    row, detail = service.finish(prep=prep, data=data, actor=actor, person=person,
                                 pass_row=pass_row, inside=inside,
                                 row_type=_plain_registration)
    values = online_values(row)
    audit_fields = {"at": utcnow(), "actor_user_id": actor.user_id,
                    "actor_name": actor.username, "action": "registration.create",
                    "resource_type": "registration", "resource_id": str(row.id),
                    "subject_person_id": person.id if person is not None else None,
                    "reason": None, "detail": orjson.loads(orjson.dumps(detail)),
                    "ip": actor.ip}

    stay_sql, stay_params = stays.pg_fast_ctes(row, prep.site.kind)
    raced = await fast.writer().write(groupcommit.Write(
        sql=_INSERT_REG + stay_sql + _INSERT_AUDIT, params=(*values, *stay_params),
        audit=audit_fields, reread=_SELECT_EXISTING, key=data.id))
    if raced is not None:
        return _duplicate(actor, raced)
    return service.Checked(row=row, duplicate=False)
