"""POST /api/v1/supplies/depots/{depot_id}/issues, the clerk's hot path, lean.

Why: eight clerks issuing at once queue inside one uvicorn worker behind each other's
Python, so an issue's latency is about eight times its CPU. Through FastAPI, pydantic,
the ORM and a session an issue cost 4.7-6.3 ms of server CPU (p99 188 ms); this
endpoint does the same in well under half of that (docs/supplies.md has the figures).

It is a plain Starlette endpoint matched before the routers (app.create_app), like the
checkpoint's (registrations/views.py): the same login, body rules, errors (translated,
same status codes), authorisation, ledger rows, balance lock and audit entry as
views.issue + service.issue, which stay the reference and document the endpoint in
the OpenAPI schema. On PostgreSQL (sessions on the engine's pool) an earliest-expiry
issue runs on the event loop with async psycopg (registrations/fastpath.py's
connections), in one transaction of two statements:

1. the depot (for the authorisation), whether the item exists, and a free audit side
   lane's lock (audit/lanes.py; a statement before the one that reads the lane's head);
2. one WITH statement: the depot's lots of the item locked FOR UPDATE in FEFO order
   (the race's lock, as ledger.locked_stock), the FEFO pick by running sums, the
   balance UPDATEs, the ledger INSERT and the chained audit entry, the writes only
   when the lots hold enough; it returns what it took, or what is left.

Everything else (a named lot, a body not of the everyday shape or breaking IssueIn's
rules, SQLite, a test runtime whose sessions share one connection) is handed, its body
replayed, to the FastAPI route: its validation errors and service.issue answer as
before.
"""

from __future__ import annotations

import contextlib
import random
import re
import uuid
from typing import Any

import orjson
import psycopg
from psycopg.pq import TransactionStatus
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from passtrace.audit import chain, lanes
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.errors import InvalidState, NotFound, Unauthorized
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.registrations import fastpath
from passtrace.supplies import authz
from passtrace.supplies.schemas import IssueIn
from passtrace.web.deps import optional_principal

ISSUES_PATH = "/api/v1/supplies/depots/{depot_id}/issues"
# Ledger ids sent with the statement: one per lot an issue takes. An issue needing more
# lots than this (a large one over many small lots) goes the generic way.
MAX_LOTS = 16
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # schemas.TEXT refuses these

# 1. The depot, the item, a side lane: one row whatever is missing. Parameters: item,
# lanes.pick_params, depot.
_READ = ("SELECT d.code, d.area_code, EXISTS (SELECT 1 FROM supply_items WHERE id = %s), "
         f"({lanes.PICK_SQL}) FROM (SELECT 1) AS one "
         "LEFT JOIN supply_depots d ON d.id = %s")
# 2. Lock, pick, write. `run` numbers the locked lots in FEFO order with the units before
# each; the lots an issue of q takes are those with fewer than q before them; nothing is
# written unless they hold q in at most as many lots as ledger ids were sent.
# Parameters: depot, item, q, q, number of ids, q, q, now, ids, now, depot, item,
# consumer, actor, then lanes.params' head and insert parameters.
_WRITE = (
    "WITH held AS MATERIALIZED (SELECT b.id, b.lot_id, b.quantity, l.expires_on, "
    "l.lot_number FROM supply_balances b JOIN supply_lots l ON l.id = b.lot_id "
    "WHERE b.depot_id = %s AND b.item_id = %s AND b.quantity > 0 "
    "ORDER BY l.expires_on, l.lot_number FOR UPDATE OF b), "
    "run AS (SELECT id, lot_id, quantity, row_number() OVER w AS n, "
    "sum(quantity) OVER w - quantity AS before FROM held "
    "WINDOW w AS (ORDER BY expires_on, lot_number ROWS UNBOUNDED PRECEDING)), "
    "verdict AS (SELECT COALESCE(sum(quantity), 0) AS total, "
    "count(*) FILTER (WHERE before < %s) AS lots FROM run), "
    "ok AS (SELECT total, lots, total >= %s AND lots <= %s AS go FROM verdict), "
    "pick AS (SELECT r.id, r.lot_id, r.n, LEAST(r.quantity, %s - r.before) AS take "
    "FROM run r, ok WHERE ok.go AND r.before < %s), "
    "upd AS (UPDATE supply_balances b SET quantity = b.quantity - p.take, updated_at = %s "
    "FROM pick p WHERE b.id = p.id), "
    "led AS (INSERT INTO supply_ledger (id, created_at, depot_id, item_id, lot_id, kind, "
    "quantity, counterparty, reason, transfer_id, actor_id) SELECT (%s::uuid[])[p.n::int], "
    "%s, %s, %s, p.lot_id, 'issue', -p.take, %s, '', NULL, %s FROM pick p), "
    f"{lanes.LANE_HEAD_CTE}, "
    f"aud AS ({lanes.insert_sql('a_head, ok WHERE ok.go')}) "
    "SELECT ok.total, ok.go, p.n, p.lot_id, p.take FROM ok LEFT JOIN pick p ON true "
    "ORDER BY p.n")


class _Depot:
    """What authz reads of a depot."""

    __slots__ = ("area_code", "code", "id")

    def __init__(self, id: uuid.UUID, code: str, area_code: str) -> None:  # noqa: A002
        self.id, self.code, self.area_code = id, code, area_code


class _TooManyLots(Exception):
    """The issue takes more lots than ids were sent: rolled back, done the generic way."""


class LeanIssue:
    """The issue route as a raw ASGI app matched before the routers.

    Only the everyday request is served here: PostgreSQL with its own connections, a
    JSON body {item_id, quantity, consumer} within IssueIn's rules, a well-formed depot
    id. Anything else (a named lot, a malformed request, SQLite, the test suite's
    shared connection) is handed, body replayed, to the documented FastAPI route, so
    its validation errors and its reference path (service.issue) answer exactly as
    before.
    """

    def __init__(self) -> None:
        self.route: Any = None  # the reference route, found on first use

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        rt: Runtime = request.app.state.runtime
        fast = fastpath.for_runtime(rt)
        body = await request.body()
        raw_depot = scope["path_params"]["depot_id"]
        data = (_parse_fast(body) if fast is not None and _json(request)
                and _UUID.fullmatch(raw_depot) else None)
        if fast is None or data is None:
            await self._reference(scope, body, receive, send)
            return
        principal = await optional_principal(request, rt)  # CSRF on cookie logins, locale
        if principal is None:
            raise Unauthorized("Please log in.")
        authz.require_supplies_user(principal)  # a resident: 403 whatever the depot id
        out = await _issue_pg(fast, principal, uuid.UUID(raw_depot), data)
        if out is None:  # more lots than ids sent: the reference path
            await self._reference(scope, body, receive, send)
            return
        await Response(orjson.dumps(out), status_code=201,
                       media_type="application/json")(scope, receive, send)

    async def _reference(self, scope: Scope, body: bytes, receive: Receive,
                         send: Send) -> None:
        """Serve the request by the FastAPI route, its body (already read) replayed."""
        # The route the app's router would have picked without this one: the first
        # other route matching in full (the documented route, in its included router).
        child: Scope = {}
        if self.route is not None:
            _, child = self.route.matches(scope)
        else:
            for route in scope["app"].router.routes:
                if getattr(route, "endpoint", None) is self:
                    continue
                match, child = route.matches(scope)
                if match == Match.FULL:
                    self.route = route
                    break
        assert self.route is not None, "the documented issue route is mounted"
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.route.handle({**scope, **child}, replay, send)


def lean_route() -> Route:
    """The hot endpoint, to be matched before every router (app.create_app)."""
    return Route(ISSUES_PATH, LeanIssue(), methods=["POST"])


def _json(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind == "application/json" or kind.startswith("application/json;")


def _parse_fast(body: bytes) -> IssueIn | None:
    """The everyday body ({item_id, quantity, consumer}) checked by hand as IssueIn
    would; None for anything else (the reference route then decides, with its errors)."""
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or doc.get("lot_id") is not None:
        return None
    item, quantity, consumer = doc.get("item_id"), doc.get("quantity"), doc.get("consumer")
    if (type(item) is not str or not _UUID.fullmatch(item) or type(quantity) is not int
            or not 1 <= quantity <= 10_000_000 or type(consumer) is not str
            or not 1 <= len(consumer) <= 80 or _CONTROL.search(consumer)):
        return None
    # model_construct: the values are checked above; no validation run twice.
    return IssueIn.model_construct(item_id=uuid.UUID(item), quantity=quantity,
                                   consumer=consumer, lot_id=None)


async def _issue_pg(fast: fastpath.FastPath, actor: Principal, depot_id: uuid.UUID,
                    data: IssueIn) -> list[dict[str, Any]] | None:
    """service.issue's earliest-expiry issue in two statements; None: do it the generic
    way (it takes more than MAX_LOTS lots)."""
    item_id, quantity = data.item_id, data.quantity
    start = random.randrange(chain.LANES)
    fields = audit_service.entry_fields(actor, "supplies.issue", "supply_depot", depot_id,
                                        None, {"item": str(item_id), "quantity": quantity})
    # Made once, outside `work`: should fast.run re-run it on a fresh connection after
    # the first died past its COMMIT, the same ledger ids make the re-run fail on the
    # primary key (a 409) instead of issuing twice.
    ids = [uuid7() for _ in range(min(quantity, MAX_LOTS))]
    now = utcnow()

    async def work(conn: psycopg.AsyncConnection[Any]) -> list[dict[str, Any]]:
        # BEGIN and COMMIT go in a pipeline with the statements next to them: no round
        # trip of their own, and above all the balance rows' lock is not held while
        # this worker's event loop, busy with other clerks, gets round to sending COMMIT
        # (the clerks of one depot x item queue on that lock).
        try:
            async with conn.pipeline():
                await conn.execute("BEGIN")
                read = await conn.execute(_READ, (item_id, *lanes.pick_params(start),
                                                  depot_id))
            code, area_code, item_known, lane = await read.fetchone()  # type: ignore[misc]
            if code is None:
                raise NotFound("No such depot.")
            authz.require_manage(actor, _Depot(depot_id, code, area_code))
            if lane is None:  # every side lane busy: wait for one (as lanes.take_lane)
                lane = 1 + start
                await conn.execute(lanes.WAIT_SQL, (chain.PG_LANE_LOCK_CLASS, lane))
            head, audit_values = lanes.params(fields, lane)
            async with conn.pipeline():
                # Committed whatever it found: when the lots hold too little it wrote
                # nothing.
                write = await conn.execute(_WRITE, (
                    depot_id, item_id, quantity, quantity, len(ids), quantity, quantity,
                    now, ids, now, depot_id, item_id, data.consumer, actor.user_id,
                    *head, *audit_values))
                await conn.execute("COMMIT")
        except BaseException:
            if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                # Back to the pool idle; a connection that cannot roll back is closed.
                with contextlib.suppress(psycopg.Error):
                    await conn.execute("ROLLBACK")
            raise
        rows = await write.fetchall()
        total, go = rows[0][0], rows[0][1]
        if go:
            return [{"id": ids[n - 1], "kind": "issue", "lot_id": lot_id,
                     "quantity": -take} for _, _, n, lot_id, take in rows]
        if total >= quantity:
            raise _TooManyLots
        if total == 0 and not item_known:
            raise NotFound("No such item.")  # an unknown item is a 404, not "no stock"
        raise InvalidState("Not enough stock: %(available)s left at this depot.",
                           code="insufficient_stock", available=total)

    try:
        result: list[dict[str, Any]] = await fast.run(work)
    except _TooManyLots:
        return None
    return result
