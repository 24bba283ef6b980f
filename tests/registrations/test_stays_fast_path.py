"""The PostgreSQL fast path keeps stays in the statement that stores the registration.

A fresh committed database whose seeded site is a venue (tests/registrations/
test_fast_path.py explains why the fast path needs committed data).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from passtrace.app import create_app
from passtrace.core.config import Settings
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.registrations import fastpath, stays
from passtrace.registrations.schemas import RegistrationIn
from passtrace.registrations.views import _register_in_session
from tests.conftest import PG_ADMIN_URL, skip_or_fail

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import checkpoint_env  # noqa: E402


@pytest.fixture(scope="module")
def venue() -> Iterator[tuple[TestClient, Runtime, checkpoint_env.Seeded]]:
    name = f"passtrace_stays_{uuid.uuid4().hex[:8]}"
    try:
        url = checkpoint_env.create_pg_database(name)
    except Exception as exc:  # noqa: BLE001 - no server
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    try:
        seeded = checkpoint_env.seed(url, residents=4)
        env = checkpoint_env.settings_env(url)
        rt = Runtime.build(Settings(**{k.removeprefix("PASSTRACE_").lower(): v
                                       for k, v in env.items()}))
        with rt.engine.begin() as conn:
            conn.execute(text("UPDATE sites SET kind = 'venue'"))
        with TestClient(create_app(runtime=rt)) as client:
            client.headers["Authorization"] = f"Bearer {seeded.token}"
            yield client, rt, seeded
        rt.engine.dispose()
    finally:
        checkpoint_env.drop_pg_database(name)


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
    got = _stays(rt)
    by_id = {row[0]: row[2:] for row in got}
    cap = stays.cap_for("venue")
    for ids in (fast_ids, slow_ids):
        assert by_id[ids[0]] == (came_at, left_at, "out", ids[1])
        assert by_id[ids[2]] == (now, now + cap, "cap", None)
    assert len(got) == 4
    with rt.sessions() as session:
        assert stays.rebuild(session) == 4
        session.commit()
    assert _stays(rt) == got
