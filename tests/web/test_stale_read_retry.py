"""A page read refused by SQLite on a stale snapshot is run again instead of answering 503.

SQLite only: the refusal (SQLITE_BUSY_SNAPSHOT) does not exist on PostgreSQL, where a
reader's access-log write simply waits for nothing and succeeds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from passtrace.app import create_app
from passtrace.audit import service as audit_service
from passtrace.audit.models import AuditEntry
from passtrace.core.db import writing
from passtrace.core.runtime import Runtime
from passtrace.web import stale_reads
from passtrace.web.deps import SessionDep
from tests.concurrency import own_database


@pytest.fixture(scope="module")
def sqlite_rt() -> Iterator[Runtime]:
    with own_database("sqlite", "passtrace_stale") as rt:
        yield rt


class Officials:
    """A test-only page: read, let another connection commit meanwhile, then log the
    read in the person's access log (what every case/contact page does)."""

    def __init__(self, rt: Runtime, interfere_times: int) -> None:
        self.rt = rt
        self.interfere_times = interfere_times
        self.attempts = 0
        self.subject = uuid.uuid4()

    def view(self, session: Session) -> dict[str, Any]:
        self.attempts += 1
        # The read opens the transaction's snapshot.
        session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        if self.attempts <= self.interfere_times:
            # Another official's request commits a write while this read is open.
            with self.rt.sessions(info=writing()) as other:
                audit_service.record(session=other, actor=None, action="test.other",
                                     resource_type="test")
                other.commit()
        audit_service.record_people(session=session, actor=None, action="person.view",
                                    resource_type="person", resource_id=str(self.subject),
                                    people=[self.subject])
        return {"ok": True}

    def entries(self) -> int:
        with self.rt.sessions() as session:
            return session.execute(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.subject_person_id == self.subject)).scalar_one()


def _client(rt: Runtime, page: Officials) -> TestClient:
    app = create_app(runtime=rt)

    def get_page(session: SessionDep) -> dict[str, Any]:
        return page.view(session)

    def post_page() -> dict[str, Any]:
        # The same deferred read-then-write as the GET (a POST's own session would take
        # the write lock first and never be refused): it must still not be re-run.
        with rt.sessions() as session:
            result = page.view(session)
            session.commit()
            return result

    app.add_api_route("/test/stale-read", get_page, methods=["GET"])
    app.add_api_route("/test/stale-read", post_page, methods=["POST"])
    return TestClient(app)


def test_a_page_read_refused_on_a_stale_snapshot_is_served_and_logged_once(
        sqlite_rt: Runtime) -> None:
    page = Officials(sqlite_rt, interfere_times=1)
    with _client(sqlite_rt, page) as client:
        resp = client.get("/test/stale-read", headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"ok": True}
    assert stale_reads.MARK not in resp.headers
    assert page.attempts == 2
    assert page.entries() == 1  # the refused attempt's entry was rolled back


def test_a_read_refused_every_time_is_told_busy_after_three_attempts(
        sqlite_rt: Runtime) -> None:
    page = Officials(sqlite_rt, interfere_times=99)
    with _client(sqlite_rt, page) as client:
        resp = client.get("/test/stale-read", headers={"Accept": "application/json"})
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "busy"
    assert resp.headers["Retry-After"] == "1"
    assert stale_reads.MARK not in resp.headers
    assert page.attempts == stale_reads.ATTEMPTS
    assert page.entries() == 0


def test_a_post_refused_on_a_stale_snapshot_is_not_run_again(sqlite_rt: Runtime) -> None:
    page = Officials(sqlite_rt, interfere_times=1)
    with _client(sqlite_rt, page) as client:
        resp = client.post("/test/stale-read", headers={"Accept": "application/json"})
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "busy"
    assert stale_reads.MARK not in resp.headers
    assert page.attempts == 1
    assert page.entries() == 0


def test_a_read_told_locked_after_the_busy_timeout_is_not_run_again(
        sqlite_rt: Runtime) -> None:
    # Waiting another busy timeout per attempt would hold the page for minutes.
    app = create_app(runtime=sqlite_rt)
    calls = 0

    def locked() -> None:
        nonlocal calls
        calls += 1
        raise OperationalError("BEGIN IMMEDIATE", None,
                               sqlite3.OperationalError("database is locked"))

    app.add_api_route("/test/locked", locked, methods=["GET"])
    with TestClient(app) as client:
        resp = client.get("/test/locked", headers={"Accept": "application/json"})
    assert resp.status_code == 503
    assert stale_reads.MARK not in resp.headers
    assert calls == 1


def test_a_streamed_page_still_streams_through_the_retry() -> None:
    # Only the response start is looked at: each chunk reaches the client as it is sent.
    sent: list[dict[str, Any]] = []
    second_chunk = asyncio.Event()

    async def streaming_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await second_chunk.wait()
        await send({"type": "http.response.body", "body": b"second", "more_body": False})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def run() -> None:
        task = asyncio.create_task(stale_reads.RetryStaleReads(streaming_app)(
            {"type": "http", "method": "GET", "path": "/"}, receive, send))
        for _ in range(10):
            await asyncio.sleep(0)
        assert [m.get("body") for m in sent] == [None, b"first"]
        second_chunk.set()
        await task

    # On a thread of its own: a browser test run before this one in the same worker may
    # leave this thread an event loop still running, where asyncio.run() refuses.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()
    assert [m.get("body") for m in sent] == [None, b"first", b"second"]
