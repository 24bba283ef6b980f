"""The resident's notices leave through the outbox: pass approve, reject and revoke and a
status change reach a real local webhook gateway that fails at first, each exactly once
(retried, never duplicated), signed, in Chinese (both databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from passtrace.core import gateway_signature
from passtrace.health import jobs as health_jobs
from passtrace.jobs.delivery import deliver_due
from tests.health.conftest import flag
from tests.jobs.gateway import SECRET, Gateway, free_port, with_gateways
from tests.passes.helpers import apply


@pytest.fixture
def failing_gateway() -> Iterator[Gateway]:
    """A local webhook gateway that answers 503 to its first two calls."""
    g = Gateway(port=free_port(), fail_first=2)
    g.start()
    yield g
    g.stop()


def test_decisions_and_a_status_change_reach_the_gateway_once_despite_failures(
        client, session, rt, cast, failing_gateway) -> None:
    rt.settings = with_gateways(rt.settings, webhook=failing_gateway)
    r, o = cast["resident"].headers, cast["official"].headers
    approved, rejected = apply(client, r), apply(client, r)
    assert client.post(f"/api/v1/passes/{approved['id']}/approve", headers=o,
                       json={"reason": ""}).status_code == 200
    assert client.post(f"/api/v1/passes/{rejected['id']}/reject", headers=o,
                       json={"reason": "材料不全"}).status_code == 200
    assert client.post(f"/api/v1/passes/{approved['id']}/revoke", headers=o, json={
        "reason": "所在区域风险等级调整", "reason_code": "risk_change"}).status_code == 200
    flag(session, cast["resident"].user.person_id, "red", reason="close_contact")
    session.commit()
    # Nothing left the process inside those transactions.
    assert failing_gateway.calls == 0
    assert health_jobs.relay_status_notices(rt) == 1
    assert health_jobs.relay_status_notices(rt) == 0  # a re-run queues nothing new

    first = deliver_due(rt)
    assert (first.sent, first.retrying) == (2, 2)  # the gateway failed twice: those wait
    second = deliver_due(rt)
    assert (second.sent, second.retrying) == (2, 0)
    assert deliver_due(rt).sent == 0
    assert health_jobs.relay_status_notices(rt) == 0

    user = str(cast["resident"].user.id)
    mine = [m for m in failing_gateway.received if m["user_id"] == user]
    assert sorted(m["kind"] for m in mine) == sorted(
        ["pass_approved", "pass_rejected", "pass_revoked", "health.status"])
    keys = failing_gateway.idempotency_keys()
    assert len(keys) == len(set(keys)) == 4
    status = next(m for m in mine if m["kind"] == "health.status")
    assert "您的健康码已转为红码" in status["text"] and status["link"] == "/health/me"
    rejected_text = next(m for m in mine if m["kind"] == "pass_rejected")["text"]
    assert "材料不全" in rejected_text
    for header, body in zip(failing_gateway.headers, failing_gateway.bodies, strict=True):
        gateway_signature.verify(header.get(gateway_signature.HEADER), body, secret=SECRET)


def test_without_a_gateway_status_notices_stay_in_app(session, rt, cast) -> None:
    rt.settings = rt.settings.model_copy(update={"notify_webhook_url": None})
    flag(session, cast["resident"].user.person_id, "yellow")
    session.commit()
    assert health_jobs.relay_status_notices(rt) == 0
