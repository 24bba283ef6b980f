"""The outbox: enqueue in the business transaction, deliver after it, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from passtrace.core import clock, gateway_signature, outbox
from passtrace.core.outbox import OutboxMessage
from passtrace.jobs.delivery import deliver_due
from tests.jobs.gateway import SECRET, with_gateways


def _rows(session):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)).all()


def test_the_same_dedupe_key_twice_enqueues_one_row(session):
    assert outbox.enqueue(session=session, channel="webhook", dedupe_key="k:1",
                          payload={"text": "first"}) is True
    assert outbox.enqueue(session=session, channel="webhook", dedupe_key="k:1",
                          payload={"text": "second"}) is False
    rows = _rows(session)
    assert [(r.dedupe_key, r.payload) for r in rows] == [("k:1", {"text": "first"})]


def test_a_rolled_back_transaction_leaves_nothing_to_send(rt, session):
    nested = session.begin_nested()
    outbox.enqueue(session=session, channel="sms", dedupe_key="k:gone",
                   payload={"phone": "13800000000", "text": "x"})
    nested.rollback()
    assert _rows(session) == []


def test_bad_messages_are_refused_when_enqueued(session):
    with pytest.raises(ValueError, match="channel"):
        outbox.enqueue(session=session, channel="fax", dedupe_key="k", payload={})
    with pytest.raises(ValueError, match="dedupe key"):
        outbox.enqueue(session=session, channel="sms", dedupe_key="", payload={})
    with pytest.raises(TypeError):
        outbox.enqueue(session=session, channel="sms", dedupe_key="k", payload={"x": object()})
    assert _rows(session) == []


def test_a_gateway_down_then_up_gets_the_message_exactly_once(rt, session, down_gateway):
    rt.settings = with_gateways(rt.settings, webhook=down_gateway)
    outbox.enqueue(session=session, channel="webhook", dedupe_key="notice:1",
                   payload={"text": "你好", "key": "notice:1"})
    session.commit()
    stats = deliver_due(rt)
    assert (stats.sent, stats.retrying, stats.failed) == (0, 1, 0)
    [row] = _rows(session)
    assert row.processed_at is None and row.attempts == 1
    assert "unreachable" in (row.last_error or "")
    down_gateway.start()
    assert deliver_due(rt).sent == 1
    assert deliver_due(rt).sent == 0  # nothing is due any more
    assert down_gateway.idempotency_keys() == ["notice:1"]
    assert down_gateway.received == [{"text": "你好", "key": "notice:1"}]
    [row] = _rows(session)
    assert row.processed_at is not None and row.last_error is None
    # What arrived is signed: the gateway's check accepts it.
    gateway_signature.verify(down_gateway.headers[0].get(gateway_signature.HEADER),
                             down_gateway.bodies[0], secret=SECRET)


def test_retries_back_off_exponentially_then_give_up_keeping_the_error(rt, session, gateway):
    gateway.fail_first = 100
    rt.settings = with_gateways(rt.settings, webhook=gateway, outbox_backoff_s=10.0,
                                outbox_max_backoff_s=25.0, outbox_max_attempts=4)
    t0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    clock.freeze(t0)
    try:
        outbox.enqueue(session=session, channel="webhook", dedupe_key="k:b", payload={})
        session.commit()
        waits = []
        at = t0
        for _ in range(3):
            assert deliver_due(rt).retrying == 1
            [row] = _rows(session)
            waits.append((row.next_attempt_at - at).total_seconds())
            clock.freeze(row.next_attempt_at - timedelta(seconds=1))
            assert deliver_due(rt).sent + deliver_due(rt).retrying == 0  # not due yet
            at = row.next_attempt_at
            clock.freeze(at)
        assert waits == [10.0, 20.0, 25.0]  # doubled each time, capped
        assert deliver_due(rt).failed == 1
        [row] = _rows(session)
        assert row.failed_at is not None and row.attempts == 4
        assert row.last_error == "gateway answered HTTP 503"
        assert gateway.calls == 4
        clock.freeze(at + timedelta(days=1))
        assert deliver_due(rt).sent == 0 and gateway.calls == 4  # given up: never again
        assert outbox.counts(session=session) == {"pending": 0, "retrying": 0, "sent": 0,
                                                  "failed": 1}
    finally:
        clock.freeze(None)


def test_a_gateway_refusing_the_body_is_not_retried(rt, session, gateway):
    gateway.fail_first, gateway.fail_status = 100, 400
    rt.settings = with_gateways(rt.settings, webhook=gateway)
    outbox.enqueue(session=session, channel="webhook", dedupe_key="k:400", payload={})
    session.commit()
    assert deliver_due(rt).failed == 1
    assert gateway.calls == 1 and _rows(session)[0].last_error == "gateway answered HTTP 400"


def test_sms_messages_reach_the_sms_gateway_signed(rt, session, gateway):
    rt.settings = with_gateways(rt.settings, sms=gateway)
    assert outbox.enqueue(session=session, channel="sms", dedupe_key="sms:otp:1",
                          payload={"phone": "13800000000", "text": "验证码 123456"})
    session.commit()
    assert deliver_due(rt).sent == 1
    assert gateway.received == [{"phone": "13800000000", "text": "验证码 123456",
                                 "key": "sms:otp:1"}]
    header = gateway.headers[0].get(gateway_signature.HEADER)
    gateway_signature.verify(header, gateway.bodies[0], secret=SECRET)
    with pytest.raises(gateway_signature.SignatureRejected):
        gateway_signature.verify(header, gateway.bodies[0].replace(b"123456", b"654321"),
                                 secret=SECRET)


def test_a_message_not_before_later_waits(rt, session, gateway):
    rt.settings = with_gateways(rt.settings, webhook=gateway)
    outbox.enqueue(session=session, channel="webhook", dedupe_key="k:later", payload={},
                   not_before=datetime.now(UTC) + timedelta(hours=1))
    session.commit()
    assert deliver_due(rt).sent == 0 and gateway.calls == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_channel_with_no_gateway_configured_gives_up_with_the_reason(rt, session):
    rt.settings = with_gateways(rt.settings)
    outbox.enqueue(session=session, channel="sms", dedupe_key="k:nosms",
                   payload={"phone": "1", "text": "x"})
    session.commit()
    assert deliver_due(rt).failed == 1
    assert _rows(session)[0].last_error == "no SMS gateway URL is configured"


def test_a_runner_that_outlived_its_lease_cannot_record_over_the_next_one(rt, session):
    t0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    clock.freeze(t0)
    try:
        outbox.enqueue(session=session, channel="webhook", dedupe_key="k:lease", payload={})
        [slow] = outbox.claim_due(session=session, limit=10, lease_s=60)
        assert outbox.claim_due(session=session, limit=10, lease_s=60) == []  # leased
        clock.freeze(t0 + timedelta(seconds=61))  # the slow runner's lease ran out
        [again] = outbox.claim_due(session=session, limit=10, lease_s=60)
        assert again.id == slow.id and again.attempts == 2
        assert outbox.record_sent(session=session, message=slow) is False
        assert _rows(session)[0].processed_at is None
        assert outbox.record_sent(session=session, message=again) is True
        assert _rows(session)[0].processed_at is not None
    finally:
        clock.freeze(None)
