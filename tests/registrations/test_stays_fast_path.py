"""The PostgreSQL fast path keeps stays in the statement that stores the registration.

A fresh committed database whose seeded site is a venue (tests/registrations/
test_fast_path.py explains why the fast path needs committed data).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.registrations import fastpath, stays
from passtrace.registrations.schemas import RegistrationIn
from passtrace.registrations.views import _register_in_session
from tests.registrations.deployed import Deployed, checkpoint_env, serve_deployed


@pytest.fixture(scope="module")
def venue() -> Iterator[Deployed]:
    yield from serve_deployed("passtrace_stays", residents=4, site_kind="venue")


def _body(seeded: checkpoint_env.Seeded, at: datetime, **extra: object) -> dict[str, object]:
    return {"id": str(uuid7()), "site": seeded.site, "lane": "1", "method": "qr",
            "occurred_at": at.isoformat(), "sent_at": datetime.now(UTC).isoformat(),
            "temperature": 36.6} | extra


def _stays(rt: Runtime) -> list[tuple[object, ...]]:
    with rt.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT id, person_hash, started_at, ended_at, closed_by, out_registration_id "
            "FROM stays ORDER BY person_hash, started_at"))]


def test_the_fast_path_opens_and_closes_stays_like_the_generic_path(venue):
    from passtrace.accounts import service as account_service

    client, rt, seeded = venue
    assert fastpath.for_runtime(rt) is not None
    now = datetime.now(UTC).replace(microsecond=0)
    came_at, left_at = now - timedelta(hours=2), now - timedelta(hours=1)
    fast_ids = []
    for direction, at in (("in", came_at), ("out", left_at), ("in", now)):
        body = _body(seeded, at, direction=direction, token=seeded.pass_tokens[0])
        resp = client.post("/api/v1/registrations", json=body)
        assert resp.status_code == 200 and resp.json()["decision"] == "allow", resp.text
        fast_ids.append(uuid.UUID(body["id"]))
    # A retried "out" (same id) changes nothing.
    retry = _body(seeded, left_at, direction="out", token=seeded.pass_tokens[0])
    retry["id"] = str(fast_ids[1])
    assert client.post("/api/v1/registrations", json=retry).json()["duplicate"] is True
    actor = account_service.cached_principal(token=seeded.token, ip=None)
    slow_ids = []
    for direction, at in (("in", came_at), ("out", left_at), ("in", now)):
        data = RegistrationIn.model_validate(_body(seeded, at, direction=direction,
                                                   token=seeded.pass_tokens[1]))
        slow_ids.append(uuid.UUID(str(_register_in_session(rt, actor, data).id)))
    # Only these two persons' stays: the module's other tests share the database.
    mine = {row[1] for row in _stays(rt) if row[0] in (fast_ids[0], slow_ids[0])}
    got = [row for row in _stays(rt) if row[1] in mine]
    by_id = {row[0]: row[2:] for row in got}
    cap = stays.cap_for("venue")
    for ids in (fast_ids, slow_ids):
        assert by_id[ids[0]] == (came_at, left_at, "out", ids[1])
        assert by_id[ids[2]] == (now, now + cap, "cap", None)
    assert len(got) == 4
    with rt.sessions() as session:
        assert stays.rebuild(session, person_hashes=mine) == 4
        session.commit()
    assert [row for row in _stays(rt) if row[1] in mine] == got


def test_the_fast_path_breaks_ties_like_the_generic_path(venue):
    """An "out" stored before its "in" at the same instant: a stay of no length."""
    client, rt, seeded = venue
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    came_id, left_id = sorted(uuid7() for _ in range(2))
    for direction, rid in (("out", left_id), ("in", came_id)):
        body = _body(seeded, at, direction=direction, token=seeded.pass_tokens[2]) | {
            "id": str(rid)}
        resp = client.post("/api/v1/registrations", json=body)
        assert resp.status_code == 200 and resp.json()["decision"] == "allow", resp.text
    want = (at, at, "out", left_id)
    assert {row[0]: row[2:] for row in _stays(rt)}[came_id] == want
    with rt.sessions() as session:
        stays.rebuild(session)
        session.commit()
    assert {row[0]: row[2:] for row in _stays(rt)}[came_id] == want
