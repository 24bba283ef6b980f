"""Group commit for the PostgreSQL fast path: concurrent checks share one chain lock and commit.

Every audited write extends the audit hash chain under one lock (audit/chain.py),
held until its transaction commits. One check per transaction therefore serialises
every checkpoint of the deployment on the commit's WAL flush: about 150-300 checks
a second at most, however many cores the server has.

So the checks a worker receives while a write is in flight wait for it and are then
written together, in one transaction: the chain's lock, its head, every
registration (with its stays) and its chained audit entry, one commit. Nothing
changes for any one check: its registration and audit entry still commit together
before its answer is sent, the chain is extended synchronously (`passtrace audit
verify` sees every entry at once), and each check reads and writes what it did
alone. A group costs two round trips whatever its size.

A registration already stored by a concurrent retry of the same id (ON CONFLICT
inserts nothing, and so no audit entry) would leave a hole in the chain positions
given to the entries after it: such a group is rolled back and its checks written
one by one; a failing group likewise, so each check gets its own error.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg

from passtrace.audit import chain

MAX_GROUP = 64  # checks per transaction: bounds the lock hold time and the statement

_LOCK_CHAIN = "SELECT pg_advisory_xact_lock(%s)"
_CHAIN_HEAD = "SELECT seq, hash FROM audit_entries WHERE lane = 0 ORDER BY seq DESC LIMIT 1"
AUDIT_COLUMNS = ("at", "actor_user_id", "actor_name", "action", "resource_type", "resource_id",
                 "subject_person_id", "reason", "detail", "ip", "seq", "prev_hash", "hash")

Run = Callable[[Callable[[psycopg.AsyncConnection[Any]], Awaitable[Any]]], Awaitable[Any]]


@dataclass(slots=True)
class Write:
    """One check's statement: it inserts the registration and, if stored, its audit entry.

    `sql` takes `params` followed by the audit entry's AUDIT_COLUMNS and returns a row
    when the registration was stored; `reread` reads the stored one back otherwise.
    """

    sql: str
    params: tuple[Any, ...]
    audit: dict[str, Any]
    reread: str
    key: Any
    done: asyncio.Future[Any] = field(init=False)


class _Raced(Exception):
    """A registration of the group was stored meanwhile by a retry of the same id."""


def _audit_values(fields: dict[str, Any]) -> list[Any]:
    return [orjson.dumps(fields["detail"]).decode() if c == "detail" else fields[c]
            for c in AUDIT_COLUMNS]


async def _write_group(conn: psycopg.AsyncConnection[Any], group: list[Write]) -> list[Any]:
    """Write a group in one transaction; None per stored check, else the row stored before."""
    entries = [dict(w.audit) for w in group]
    async with conn.pipeline() as pipe:
        async with conn.transaction():
            # The head is read and extended under the chain's lock, in separate
            # statements (a statement's snapshot predates a lock it takes): see
            # audit/chain.py for the race.
            await conn.execute(_LOCK_CHAIN, (chain.PG_LOCK_KEY,))
            head_cur = await conn.execute(_CHAIN_HEAD)
            await pipe.sync()
            head = await head_cur.fetchone()
            chain.link(entries, (int(head[0]), str(head[1])) if head else (0, chain.GENESIS))
            cursors = [await conn.execute(w.sql, (*w.params, *_audit_values(e)))
                       for w, e in zip(group, entries, strict=True)]
            await pipe.sync()
            stored = [await c.fetchone() for c in cursors]
            if len(group) > 1 and any(s is None for s in stored):
                raise _Raced  # rolls the whole group back: it is written one by one
        if stored[0] is None:  # a group of one whose row a concurrent retry stored
            again = await conn.execute(group[0].reread, (group[0].key,))
            await pipe.sync()
            return [await again.fetchone()]
    return [None] * len(group)


class GroupWriter:
    """The checks of one event loop waiting to be written, and the one write in flight."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.waiting: list[Write] = []
        self.busy = False
        self.task: asyncio.Task[None] | None = None  # held: the loop keeps tasks weakly

    async def write(self, item: Write) -> Any:
        """Write one check with whatever else is waiting; None if stored, else the earlier row."""
        loop = asyncio.get_running_loop()
        item.done = loop.create_future()
        self.waiting.append(item)
        if not self.busy:
            self.busy = True
            self.task = loop.create_task(self._drain())
        # shield: a client that hangs up does not cancel the group's write (its retry
        # then finds the row stored).
        return await asyncio.shield(item.done)

    async def _drain(self) -> None:
        try:
            while self.waiting:
                group, self.waiting = self.waiting[:MAX_GROUP], self.waiting[MAX_GROUP:]
                await self._write(group)
        finally:
            self.busy = False

    async def _write(self, group: list[Write]) -> None:
        try:
            results = await self.run(functools.partial(_write_group, group=group))
        except Exception as exc:  # noqa: BLE001 - each check gets its own outcome below
            if len(group) == 1:
                _settle(group[0], exc=exc)
                return
            for item in group:  # one by one: only the failing check fails
                try:
                    result = await self.run(functools.partial(_write_group, group=[item]))
                except Exception as one:  # noqa: BLE001 - handed to the waiting request
                    _settle(item, exc=one)
                else:
                    _settle(item, result=result[0])
            return
        for item, result in zip(group, results, strict=True):
            _settle(item, result=result)


def _settle(item: Write, *, result: Any = None, exc: BaseException | None = None) -> None:
    if item.done.done():
        return
    if exc is not None:
        item.done.set_exception(exc)
    else:
        item.done.set_result(result)
