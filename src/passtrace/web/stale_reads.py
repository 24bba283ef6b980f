"""Run a page read again when SQLite refused its access-log write on a stale snapshot.

A GET reads in a deferred SQLite transaction, then writes the access-log entry for
what it showed. If another connection committed in between, SQLite refuses that write
at once (SQLITE_BUSY_SNAPSHOT; no busy timeout waits for it) and the page answered 503
"busy": three officials browsing at once saw that for half their page loads. The read
was rolled back whole, so running the request again from the start, in a fresh session
and transaction, is safe; only GET and HEAD are, never a POST (it may have done
something outside the database before it was refused).

Installed on SQLite only (PostgreSQL never refuses a reader's write this way). The
busy handler (web/errors.database_busy) marks such a 503 with an internal header; this
middleware holds back only the response start until it knows the status, strips the
mark, and re-runs the app up to ATTEMPTS times with a short jittered pause. An
ordinary 503 (a lock not had within the busy timeout) carries no mark and is never
re-run; a streaming response still streams.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set on the busy 503 of a GET/HEAD refused on a stale snapshot; never sent to a client.
MARK = "x-passtrace-stale-read"
ATTEMPTS = 3
PAUSE_S = 0.02
RETRIED_METHODS = frozenset({"GET", "HEAD"})
_SQLITE_BUSY_SNAPSHOT = 517  # SQLITE_BUSY | (2 << 8)


def stale_snapshot(orig: BaseException | None) -> bool:
    """Whether SQLite refused a write because the transaction's reads were stale."""
    return (isinstance(orig, sqlite3.Error)
            and getattr(orig, "sqlite_errorcode", None) == _SQLITE_BUSY_SNAPSHOT)


class RetryStaleReads:
    """Re-run a GET/HEAD whose response is the marked busy 503 (SQLite only)."""

    def __init__(self, app: ASGIApp, attempts: int = ATTEMPTS, pause_s: float = PAUSE_S) -> None:
        self.app = app
        self.attempts = attempts
        self.pause_s = pause_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in RETRIED_METHODS:
            await self.app(scope, receive, send)
            return
        replay = _Replay(receive)
        for attempt in range(1, self.attempts + 1):
            gate = _HoldStart(send, may_retry=attempt < self.attempts)
            await self.app(_fresh(scope), replay.receiver(), gate)
            if not gate.refused:
                return
            # Jittered, so readers refused together do not meet the next writer together.
            await asyncio.sleep(self.pause_s * attempt * random.uniform(0.5, 1.5))


def _fresh(scope: Scope) -> Scope:
    """The request's scope as it came in: routing and request.state from a failed
    attempt (its principal, its session's objects) must not leak into the next."""
    fresh = dict(scope)
    if "state" in scope:
        fresh["state"] = dict(scope["state"])
    return fresh


class _Replay:
    """Hand each attempt the request body messages an earlier attempt already read."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.seen: list[Message] = []

    def receiver(self) -> Receive:
        pending = list(self.seen)

        async def receive() -> Message:
            if pending:
                return pending.pop(0)
            message = await self.receive()
            if message["type"] == "http.request":
                self.seen.append(message)
            return message

        return receive


class _HoldStart:
    """Forward an attempt's messages, unless its start is the marked 503 and another
    attempt may follow: then swallow that response whole."""

    def __init__(self, send: Send, *, may_retry: bool) -> None:
        self.send = send
        self.may_retry = may_retry
        self.refused = False

    async def __call__(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start" and message["status"] == 503:
            headers = MutableHeaders(scope=message)
            if MARK in headers:
                del headers[MARK]
                if self.may_retry:
                    self.refused = True
                    return
        await self.send(message)
