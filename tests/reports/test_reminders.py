"""Reminders: overdue people get one notice, repeat misses escalate, webhook retries."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from passtrace.notices.models import Notice
from passtrace.notices.service import DeliveryFailed, InAppNotifier, Message, WebhookNotifier
from passtrace.reports import reminders
from tests.reports.conftest import file


def notices_of(session, user_id):  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Notice).where(Notice.user_id == user_id)))


def test_before_the_deadline_nobody_is_reminded(rt, session, world, frozen):
    frozen(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # 09:00, deadline 09:30
    stats = reminders.run(session=session, rt=rt, notifiers=(InAppNotifier(session), None))
    assert stats.reminded == 0 and stats.enterprises == 0


def test_overdue_people_are_reminded_once_and_repeat_misses_escalate(client, rt, session,
                                                                      world):
    # alice files today; bob missed yesterday and today; carol filed yesterday on time.
    file(client, world.staff["alice"].persona, world.today)

    session.commit()
    stats = reminders.run(session=session, rt=rt, notifiers=(InAppNotifier(session), None))
    bob = world.staff["bob"]
    # bob, carol (both 销售部) and dave (the other enterprise, deadline 10:00) are overdue.
    assert stats.reminded == 3
    assert [n.kind for n in notices_of(session, bob.persona.user.id)] == ["report.remind"]
    assert notices_of(session, world.staff["alice"].persona.user.id) == []
    # Nobody filed yesterday in this fresh world: everyone overdue missed twice -> escalate
    # to the head of 销售部 for bob and carol (dave's department has no head).
    heads = notices_of(session, world.head.user.id)
    assert sorted(n.kind for n in heads) == ["report.escalate", "report.escalate"]
    assert stats.escalated == 2
    again = reminders.run(session=session, rt=rt, notifiers=(InAppNotifier(session), None))
    assert again.reminded == 0 and again.escalated == 0 and again.skipped_already_sent == 5
    assert len(notices_of(session, bob.persona.user.id)) == 1


def test_one_miss_is_not_escalated(client, rt, session, world, frozen):
    yesterday = world.today - timedelta(days=1)
    frozen(datetime(2026, 11, 19, 1, 0, tzinfo=UTC))  # on time yesterday
    assert file(client, world.staff["bob"].persona, yesterday).status_code == 201
    frozen(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    stats = reminders.run(session=session, rt=rt, notifiers=(InAppNotifier(session), None))
    kinds = [(n.params.get("name"), n.kind) for n in notices_of(session, world.head.user.id)]
    assert len(kinds) == 1  # only carol (missed both days), not bob
    assert stats.escalated == 1


def test_the_home_page_shows_new_notices(client, rt, session, world):
    reminders.run(session=session, rt=rt, notifiers=(InAppNotifier(session), None))
    session.commit()
    bob = world.staff["bob"].persona
    home = client.get("/", headers={**bob.headers, "Accept-Language": "en"})
    assert home.status_code == 200 and "1 new" in home.text
    page = client.get("/notices", headers={**bob.headers, "Accept-Language": "en"})
    assert "was due at 09:30" in page.text


class _Gateway(BaseHTTPRequestHandler):
    fail_first = 2
    received: list[dict] = []  # type: ignore[type-arg]
    calls = 0

    def do_POST(self) -> None:  # noqa: N802
        type(self).calls += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).calls <= type(self).fail_first:
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway():  # type: ignore[no-untyped-def]
    _Gateway.calls, _Gateway.received, _Gateway.fail_first = 0, [], 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notify", _Gateway
    server.shutdown()
    server.server_close()


def test_webhook_retries_with_backoff_until_the_gateway_answers(gateway):
    url, handler = gateway
    sleeps: list[float] = []
    hook = WebhookNotifier(url, attempts=4, backoff_s=0.01, sleep=sleeps.append)
    import uuid

    hook.send(Message(user_id=uuid.uuid4(), kind="report.remind",
                      text="Your daily report for %(date)s was due at %(deadline)s. "
                           "Please file it now.",
                      params={"date": "2026-11-20", "deadline": "09:30"}, dedupe_key="k1"))
    assert handler.calls == 3 and sleeps == [0.01, 0.02]
    assert handler.received[0]["key"] == "k1" and "2026-11-20" in handler.received[0]["text"]


def test_webhook_gives_up_after_its_bound(gateway):
    url, handler = gateway
    handler.fail_first = 100
    hook = WebhookNotifier(url, attempts=3, backoff_s=0.0, sleep=lambda s: None)
    import uuid

    with pytest.raises(DeliveryFailed):
        hook.send(Message(user_id=uuid.uuid4(), kind="x", text="Notices",
                          dedupe_key="k2"))
    assert handler.calls == 3


def test_the_job_records_webhook_failures_and_retries_only_those(rt, session, world,
                                                                 gateway):
    url, handler = gateway
    handler.fail_first = 100
    hook = WebhookNotifier(url, attempts=2, backoff_s=0.0, sleep=lambda s: None)
    stats = reminders.run(session=session, rt=rt, notifiers=(InAppNotifier(session), hook))
    assert stats.webhook_failed == stats.reminded + stats.escalated > 0
    handler.fail_first = 0
    again = reminders.run(session=session, rt=rt, notifiers=(InAppNotifier(session), hook))
    assert again.webhook_failed == 0
    assert len(handler.received) == stats.webhook_failed
    # In-app notices were not sent twice.
    assert len(notices_of(session, world.staff["bob"].persona.user.id)) == 1
