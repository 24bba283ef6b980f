"""The PostgreSQL fast path of POST /registrations, on a database with committed data.

Here the app runs as deployed, on a fresh PostgreSQL database (tests/registrations/
deployed.py says why).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.registrations import fastpath
from passtrace.registrations import service as reg_service
from passtrace.registrations.schemas import RegistrationIn
from passtrace.registrations.views import _register_in_session
from tests.conftest import PG_ADMIN_URL
from tests.registrations.deployed import Deployed, checkpoint_env, serve_deployed


@pytest.fixture(scope="module", name="deployed")
def deployed_fixture() -> Iterator[Deployed]:
    yield from serve_deployed("passtrace_fast", residents=6)


def _body(seeded: checkpoint_env.Seeded, **extra: object) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    return {"id": str(uuid7()), "site": seeded.site, "lane": "1", "method": "qr",
            "occurred_at": now, "sent_at": now, "direction": "in", "temperature": 36.6} | extra


def _count(rt: Runtime, sql: str, **params: object) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_the_fast_path_is_used_when_deployed(deployed):
    _, rt, _ = deployed
    assert fastpath.for_runtime(rt) is not None


def _both(client, rt, seeded, fast_who, slow_who, direction):  # type: ignore[no-untyped-def]
    from passtrace.accounts import service as account_service

    fast = client.post("/api/v1/registrations", json=_body(seeded, direction=direction,
                                                           **fast_who))
    assert fast.status_code == 200, fast.text
    # Resolved (not only looked up in the 5-second cache: a loaded machine outlasts it).
    with rt.sessions() as session:
        actor = account_service.resolve_principal(session=session, token=seeded.token, ip=None)
    assert actor is not None
    data = RegistrationIn.model_validate(_body(seeded, direction=direction, **slow_who))
    slow = _register_in_session(rt, actor, data).model_dump(mode="json")
    f = fast.json()
    for row_id in (f["id"], slow["id"]):
        assert _count(rt, "SELECT count(*) FROM registrations WHERE id = :i", i=row_id) == 1
        assert _count(rt, "SELECT count(*) FROM audit_entries WHERE resource_id = :i "
                          "AND action = 'registration.create'", i=row_id) == 1
    return f, slow


IDENTITY = ("decision", "reasons", "holder", "id_last4", "pass_id", "temperature")


def test_fast_and_generic_paths_decide_and_store_alike(deployed):
    client, rt, seeded = deployed
    tokens, ids = seeded.pass_tokens, seeded.id_numbers
    # "through" does not depend on (or change) who is inside: same person, both paths.
    same = [{"token": tokens[0]}, {"method": "id_typed", "id_number": ids[1]},
            {"token": tokens[2], "temperature": 38.1}, {"token": "PT1:forged"},
            {"method": "id_typed", "id_number": "11010519491231002X"}]
    for who in same:
        f, slow = _both(client, rt, seeded, who, who, "through")
        assert {k: f[k] for k in IDENTITY} == {k: slow[k] for k in IDENTITY}, who
    # In, in again (already inside), out: two people in the same situation, one per path.
    pairs = [({"token": tokens[0]}, {"token": tokens[1]}),
             ({"method": "id_typed", "id_number": ids[2]},
              {"method": "id_typed", "id_number": ids[3]}),
             ({"token": tokens[4], "temperature": 38.1}, {"token": tokens[5],
                                                          "temperature": 38.1})]
    for fast_who, slow_who in pairs:
        for direction in ("in", "in", "out", "out", "in"):
            f, slow = _both(client, rt, seeded, fast_who, slow_who, direction)
            assert (f["decision"], f["reasons"]) == (slow["decision"], slow["reasons"]), (
                fast_who, direction)
            assert f["pass_id"] is not None and slow["pass_id"] is not None


def test_a_retry_returns_the_first_result_stored_once(deployed):
    client, rt, seeded = deployed
    body = _body(seeded, token=seeded.pass_tokens[3])
    first = client.post("/api/v1/registrations", json=body).json()
    again = client.post("/api/v1/registrations", json=body | {"lane": "nope"}).json()
    assert again["duplicate"] is True and first["duplicate"] is False
    assert {k: v for k, v in again.items() if k != "duplicate"} == {
        k: v for k, v in first.items() if k != "duplicate"}
    assert _count(rt, "SELECT count(*) FROM registrations WHERE id = :i", i=body["id"]) == 1
    assert _count(rt, "SELECT count(*) FROM audit_entries WHERE resource_id = :i",
                  i=body["id"]) == 1


def test_refusals_are_translated(deployed):
    client, _, seeded = deployed
    resp = client.post("/api/v1/registrations", json=_body(seeded, site="NO-SUCH-SITE",
                                                           token=seeded.pass_tokens[0]))
    assert resp.status_code == 404
    resp = client.post("/api/v1/registrations", json=_body(seeded, lane="9",
                                                           token=seeded.pass_tokens[0]))
    assert resp.status_code == 422 and resp.json()["error"]["fields"].get("lane")
    resp = client.post("/api/v1/registrations", json=_body(seeded, id=str(uuid.uuid4()),
                                                           token=seeded.pass_tokens[0]))
    assert resp.status_code == 422
    resp = client.post("/api/v1/registrations", json=_body(seeded))
    assert resp.status_code == 422


def test_site_cache_is_shared_with_the_generic_path(deployed):
    # A fast-path check fills the site cache the generic path reads: right after it
    # (well inside the cache's lifetime), the generic path finds the site there.
    client, rt, seeded = deployed
    resp = client.post("/api/v1/registrations", json=_body(seeded,
                                                           token=seeded.pass_tokens[0]))
    assert resp.status_code == 200, resp.text
    assert reg_service.cached_site(rt, seeded.site) is not reg_service.MISS


def test_a_dead_pooled_connection_is_replaced(deployed):
    client, rt, seeded = deployed
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"),
                         {"d": rt.engine.url.database})
    finally:
        admin.dispose()
    rt.engine.dispose()
    resp = client.post("/api/v1/registrations", json=_body(seeded, token=seeded.pass_tokens[4]))
    assert resp.status_code == 200, resp.text


def test_a_batch_racing_another_upload_of_the_same_row_stores_it_once(deployed):
    """The direct COPY loses the race on the primary key; the staged insert takes over."""
    import threading
    import time

    import psycopg

    from passtrace.registrations.models import Registration

    client, rt, seeded = deployed

    def row(ident: uuid.UUID) -> dict[str, object]:
        return {"id": str(ident), "lane": "1", "occurred_at": datetime.now(UTC).isoformat(),
                "direction": "through", "method": "id_typed", "decision": "deny",
                "reasons": ["unknown_person"]}

    def upload(rows: list[dict[str, object]]) -> dict[str, object]:
        resp = client.post("/api/v1/registrations/batch", json={
            "site": seeded.site, "device_key": "race", "registrations": rows,
            "sent_at": datetime.now(UTC).isoformat()})
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    template, contested, other = uuid7(), uuid7(), uuid7()
    upload([row(template)])
    columns = ", ".join(c.name for c in Registration.__table__.columns if c.name != "id")
    dsn = rt.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as rival:
        # Another upload has inserted the contested row and not yet committed.
        rival.execute(f"INSERT INTO registrations (id, {columns}) SELECT %s, {columns} "
                      "FROM registrations WHERE id = %s", (contested, template))
        result: dict[str, object] = {}
        worker = threading.Thread(target=lambda: result.update(
            upload([row(contested), row(other)])))
        worker.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _count(
                rt, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"):
            time.sleep(0.05)
        rival.commit()
        worker.join(timeout=20)
    assert [r["status"] for r in result["results"]] == ["duplicate", "stored"]  # type: ignore[index]
    assert _count(rt, "SELECT count(*) FROM registrations WHERE id IN (:a, :b)",
                  a=contested, b=other) == 2


def test_fast_path_audit_entries_extend_the_hash_chain(deployed):
    # Its audit entry is written by hand-made SQL: it must chain like record() does.
    from sqlalchemy.orm import Session

    from passtrace.audit import verify as chain_verify

    client, rt, seeded = deployed
    for token in seeded.pass_tokens[:2]:
        assert client.post("/api/v1/registrations",
                           json=_body(seeded, token=token)).status_code == 200
    with Session(rt.engine) as s:
        outcome = chain_verify.verify(session=s)
    assert outcome.broken is None, outcome.broken
    assert _count(rt, "SELECT count(*) FROM audit_entries WHERE action = "
                      "'registration.create'") >= 2


def test_a_full_width_id_number_is_the_same_person_on_the_fast_path(deployed):
    """The fast path hashes what service.prepare normalised: one number, one person."""
    client, _, seeded = deployed
    number = seeded.id_numbers[4]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    seen = [client.post("/api/v1/registrations", json=_body(
        seeded, method="id_typed", id_number=spelling, direction="through")).json()
        for spelling in (number, full_width)]
    assert seen[1]["holder"] == seen[0]["holder"] != ""
    assert seen[1]["id_last4"] == number[-4:]


def _concurrently(client: TestClient, rt: Runtime, bodies: list[dict[str, object]]
                  ) -> list[dict[str, object]]:
    """POST the bodies at once on one event loop (as one server worker receives them)."""
    import asyncio

    import httpx

    async def go() -> list[dict[str, object]]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t",
                                     headers=dict(client.headers)) as http:
            try:
                answers = await asyncio.gather(*(http.post("/api/v1/registrations", json=b)
                                                 for b in bodies))
            finally:
                fast = fastpath.for_runtime(rt)
                assert fast is not None
                await fast.close()
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        return [a.json() for a in answers]

    return asyncio.run(go())


def test_concurrent_checks_share_commits_and_keep_the_chain_whole(deployed):
    """Checks arriving together are written in a few transactions; each is stored and
    chained as if alone, and the chain verifies."""
    from sqlalchemy.orm import Session

    from passtrace.audit import verify as chain_verify

    client, rt, seeded = deployed
    bodies = [_body(seeded, token=seeded.pass_tokens[i % 6], direction="through")
              for i in range(40)]
    answers = _concurrently(client, rt, bodies)
    assert {a["id"] for a in answers} == {b["id"] for b in bodies}
    assert all(a["decision"] == "allow" and not a["duplicate"] for a in answers)
    ids = [b["id"] for b in bodies]
    with rt.engine.connect() as conn:
        # Each check's registration and audit entry were committed by one transaction.
        txs = conn.execute(text(
            "SELECT count(DISTINCT a.xmin::text), count(*) FROM audit_entries a "
            "JOIN registrations r ON r.id::text = a.resource_id AND r.xmin = a.xmin "
            "WHERE a.action = 'registration.create' AND a.resource_id = ANY(:ids)"),
            {"ids": ids}).one()
    assert txs[1] == 40  # every entry committed with its own registration
    assert txs[0] < 40  # ... and checks shared transactions (one commit each would be 40)
    with Session(rt.engine) as s:
        outcome = chain_verify.verify(session=s)
    assert outcome.broken is None, outcome.broken


def test_a_retry_inside_a_group_is_answered_as_a_duplicate(deployed):
    """Two copies of one check in one group: the group is written again one by one,
    the first stores it, the second gets the first's answer, the chain has no hole."""
    from sqlalchemy.orm import Session

    from passtrace.audit import verify as chain_verify

    client, rt, seeded = deployed
    twice = _body(seeded, token=seeded.pass_tokens[1], direction="through")
    others = [_body(seeded, token=seeded.pass_tokens[2], direction="through")
              for _ in range(6)]
    answers = _concurrently(client, rt, [*others[:3], twice, twice, *others[3:]])
    copies = [a for a in answers if a["id"] == twice["id"]]
    assert sorted(a["duplicate"] for a in copies) == [False, True]
    assert _count(rt, "SELECT count(*) FROM registrations WHERE id = :i", i=twice["id"]) == 1
    assert _count(rt, "SELECT count(*) FROM audit_entries WHERE resource_id = :i",
                  i=twice["id"]) == 1
    assert all(_count(rt, "SELECT count(*) FROM registrations WHERE id = :i", i=b["id"]) == 1
               for b in others)
    with Session(rt.engine) as s:
        outcome = chain_verify.verify(session=s)
    assert outcome.broken is None, outcome.broken


def test_the_lean_endpoint_refuses_like_the_documented_route(deployed):
    """POST /registrations is served by a plain Starlette endpoint: same login, permission,
    body errors (translated, per field) and OpenAPI entry as the FastAPI route it shadows."""
    client, _, seeded = deployed
    url = "/api/v1/registrations"
    no_login = client.post(url, json=_body(seeded), headers={"Authorization": ""})
    assert no_login.status_code == 401 and no_login.json()["error"]["code"] == "unauthorized"
    for content in (b"", b"{not json", b"[]"):
        resp = client.post(url, content=content, headers={"Content-Type": "application/json"})
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid", content
    resp = client.post(url, json=_body(seeded, temperature=99, extra="x"))
    assert resp.status_code == 422
    assert set(resp.json()["error"]["fields"]) == {"temperature", "extra"}
    assert "post" in client.get("/api/v1/openapi.json").json()["paths"][url]
