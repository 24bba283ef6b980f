"""Reminders: overdue people get one notice, repeat misses escalate; the gateway copy
goes through the outbox, after the run commits, exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from passtrace.core.outbox import OutboxMessage
from passtrace.jobs.delivery import deliver_due
from passtrace.notices.models import Notice
from passtrace.reports import reminders
from passtrace.reports.models import ReportReminder
from tests.jobs.gateway import Gateway, free_port, with_gateways
from tests.reports.conftest import file, local


def notices_of(session, user_id):  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Notice).where(Notice.user_id == user_id)))


def test_before_the_deadline_nobody_is_reminded(rt, session, world, frozen):
    frozen(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # 09:00, deadline 09:30
    stats = reminders.run(session=session, rt=rt)
    assert stats.reminded == 0 and stats.enterprises == 0


def test_overdue_people_are_reminded_once_and_repeat_misses_escalate(client, rt, session,
                                                                      world):
    # alice files today; bob missed yesterday and today; carol filed yesterday on time.
    file(client, world.staff["alice"].persona, world.today)
    session.commit()
    stats = reminders.run(session=session, rt=rt)
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
    again = reminders.run(session=session, rt=rt)
    assert again.reminded == 0 and again.escalated == 0 and again.skipped_already_sent == 5
    assert len(notices_of(session, bob.persona.user.id)) == 1
    # No gateway configured: nothing waits in the outbox.
    assert session.scalars(select(OutboxMessage)).all() == []


def test_one_miss_is_not_escalated(client, rt, session, world, frozen):
    yesterday = world.today - timedelta(days=1)
    frozen(datetime(2026, 11, 19, 1, 0, tzinfo=UTC))  # on time yesterday: 09:00
    at_home = [{"area_code": "520102006001", "place": "家", "arrive_at": local(yesterday,
                                                                                "00:00")}]
    assert file(client, world.staff["bob"].persona, yesterday,
                stops=at_home).status_code == 201
    frozen(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    stats = reminders.run(session=session, rt=rt)
    kinds = [(n.params.get("name"), n.kind) for n in notices_of(session, world.head.user.id)]
    assert len(kinds) == 1  # only carol (missed both days), not bob
    assert stats.escalated == 1


def test_the_home_page_shows_new_notices(client, rt, session, world):
    reminders.run(session=session, rt=rt)
    session.commit()
    bob = world.staff["bob"].persona
    home = client.get("/", headers={**bob.headers, "Accept-Language": "en"})
    assert home.status_code == 200 and "1 new" in home.text
    page = client.get("/notices", headers={**bob.headers, "Accept-Language": "en"})
    assert "was due at 09:30" in page.text


@pytest.fixture
def down_gateway() -> Iterator[Gateway]:
    """A real local gateway, down until the test starts it."""
    g = Gateway(port=free_port())
    yield g
    g.stop()


def test_a_run_queues_the_gateway_copies_and_touches_no_network(rt, session, world,
                                                                 down_gateway):
    # The gateway is down: the old run waited on it, retrying, inside its transaction.
    rt.settings = with_gateways(rt.settings, webhook=down_gateway)
    stats = reminders.run(session=session, rt=rt)
    assert stats.reminded + stats.escalated == stats.queued == 6  # 4 reminders, 2 escalations
    queued = session.scalars(select(OutboxMessage).order_by(OutboxMessage.dedupe_key)).all()
    bob = world.staff["bob"]
    keys = [m.dedupe_key for m in queued]
    assert f"notice:remind:{bob.employee.id}:{world.today}" in keys
    assert all(m.channel == "webhook" and m.attempts == 0 for m in queued)
    remind = next(m for m in queued if m.dedupe_key.startswith("notice:remind:"))
    assert "09:30" in remind.payload["text"]  # rendered (in Chinese) when queued
    assert down_gateway.calls == 0
    again = reminders.run(session=session, rt=rt)
    assert again.queued == 0 and len(session.scalars(select(OutboxMessage)).all()) == 6


def test_the_gateway_recovers_and_gets_each_reminder_once(rt, session, world, down_gateway):
    rt.settings = with_gateways(rt.settings, webhook=down_gateway)
    stats = reminders.run(session=session, rt=rt)
    session.commit()
    assert deliver_due(rt).retrying == stats.queued  # down: each kept for a retry
    down_gateway.start()
    reminders.run(session=session, rt=rt)  # a re-run meanwhile queues nothing new
    session.commit()
    assert deliver_due(rt).sent == stats.queued
    assert deliver_due(rt).sent == 0
    keys = down_gateway.idempotency_keys()
    assert len(keys) == len(set(keys)) == stats.queued
    texts = [r["text"] for r in down_gateway.received if r["kind"] == "report.remind"]
    assert texts and all("2026-11-20" in t for t in texts)
    # In-app notices were not duplicated either.
    assert len(notices_of(session, world.staff["bob"].persona.user.id)) == 1


def test_a_run_makes_the_same_number_of_queries_for_three_or_thirty_overdue(
        rt, session, world, make_persona):
    from sqlalchemy import event

    from passtrace.enterprises.models import Employee

    def statements_of_a_run() -> int:
        count = 0

        def counted(*args: object) -> None:
            nonlocal count
            count += 1

        connection = session.connection()
        event.listen(connection, "before_cursor_execute", counted)
        try:
            nested = session.begin_nested()
            stats = reminders.run(session=session, rt=rt)
            nested.rollback()
        finally:
            event.remove(connection, "before_cursor_execute", counted)
        assert stats.reminded >= 3
        return count

    few = statements_of_a_run()
    sales = world.depts["销售部"]
    for i in range(27):
        p = make_persona("public", name=f"员工{i}")
        session.add(Employee(enterprise_id=sales.enterprise_id, department_id=sales.id,
                             person_id=p.user.person_id, user_id=p.user.id,
                             employee_no=f"X{i:04d}"))
    session.flush()
    assert statements_of_a_run() == few


def test_a_re_run_reads_back_no_employee(rt, session, world):
    # The runner re-runs every few minutes; with a city's staff overdue it must not load
    # each of them again only to find their reminders sent (seconds of the server's CPU).
    from sqlalchemy import event

    from passtrace.enterprises.models import Employee

    reminders.run(session=session, rt=rt)
    session.expunge_all()
    loaded: list[object] = []

    def on_load(target: object, context: object) -> None:
        loaded.append(target)

    event.listen(Employee, "load", on_load)
    try:
        again = reminders.run(session=session, rt=rt)
    finally:
        event.remove(Employee, "load", on_load)
    assert again.overdue == 4 and again.reminded == again.escalated == 0
    assert loaded == []


def test_a_head_named_later_gets_the_escalations_of_the_day(rt, session, world,
                                                             make_persona):
    first = reminders.run(session=session, rt=rt)
    assert first.escalated == 2
    sales = world.depts["销售部"]
    second_head = make_persona("department_head", "department", str(sales.id))
    session.flush()
    again = reminders.run(session=session, rt=rt)
    # bob and carol again, to the new head only; the first head is not told twice.
    assert again.escalated == 2 and again.reminded == 0
    assert again.skipped_already_sent == 6  # 4 reminders, bob's and carol's first head
    assert len(notices_of(session, second_head.user.id)) == 2
    assert len(notices_of(session, world.head.user.id)) == 2


def test_only_the_enterprises_past_their_deadline_are_reminded(rt, session, world, frozen):
    frozen(datetime(2026, 11, 20, 1, 45, tzinfo=UTC))  # 09:45: past 09:30, before 10:00
    stats = reminders.run(session=session, rt=rt)
    assert stats.enterprises == 1 and stats.overdue == 3 and stats.reminded == 3
    assert notices_of(session, world.staff["dave"].persona.user.id) == []
    frozen(datetime(2026, 11, 20, 2, 5, tzinfo=UTC))  # 10:05: dave's deadline passed too
    later = reminders.run(session=session, rt=rt)
    assert later.enterprises == 2 and later.overdue == 4 and later.reminded == 1
    assert [n.kind for n in notices_of(session, world.staff["dave"].persona.user.id)] == [
        "report.remind"]


def test_an_imported_report_of_the_day_hides_nobody_from_the_reminders(rt, session, world):
    # A report imported from another system has no employee (employee_id NULL). Once every
    # enterprise is past its deadline the day's reports are read unfiltered by enterprise:
    # a NULL in "id NOT IN (...)" must not make every employee look as if they had filed.
    from passtrace.core.clock import utcnow
    from passtrace.core.ids import uuid7
    from passtrace.reports.models import DailyReport

    session.add(DailyReport(id=uuid7(), employee_id=None, enterprise_id=None,
                            department_id=None, report_date=world.today, temperature=36.5,
                            symptoms=[], submitted_at=utcnow(), late=False,
                            source="import", external_id="ext-1", person_hash="h" * 64))
    session.flush()
    stats = reminders.run(session=session, rt=rt)
    assert stats.enterprises == 2 and stats.overdue == 4 and stats.reminded == 4
    assert stats.escalated == 2
    assert [n.kind for n in notices_of(session, world.staff["bob"].persona.user.id)] == [
        "report.remind"]


def test_a_head_who_takes_over_during_the_day_gets_the_escalations(rt, session, world,
                                                                   make_persona):
    # 销售部's head hands over to another after the first run: the department still has
    # one head, and bob's and carol's escalation already went to one (the former) head.
    from sqlalchemy import delete

    from passtrace.accounts.models import RoleBinding

    assert reminders.run(session=session, rt=rt).escalated == 2
    session.execute(delete(RoleBinding).where(RoleBinding.user_id == world.head.user.id,
                                              RoleBinding.role == "department_head"))
    successor = make_persona("department_head", "department",
                             str(world.depts["销售部"].id))
    session.flush()
    again = reminders.run(session=session, rt=rt)
    assert again.escalated == 2 and again.reminded == 0
    assert sorted(n.kind for n in notices_of(session, successor.user.id)) == [
        "report.escalate", "report.escalate"]


def test_an_employee_moved_to_another_department_escalates_to_its_head(rt, session, world,
                                                                       make_persona):
    # bob moves from 销售部 (its head told this morning) to 生产部, whose head is named
    # now: 生产部's head learns of bob's repeat miss as the old version told them.
    assert reminders.run(session=session, rt=rt).escalated == 2
    bob = world.staff["bob"].employee
    bob.department_id = world.depts["生产部"].id
    production_head = make_persona("department_head", "department",
                                   str(world.depts["生产部"].id))
    session.flush()
    again = reminders.run(session=session, rt=rt)
    # bob, and alice (生产部 had no head this morning).
    assert again.escalated == 2
    told = session.scalars(select(ReportReminder.employee_id).where(
        ReportReminder.kind == "escalate",
        ReportReminder.recipient_user_id == production_head.user.id)).all()
    assert sorted(told) == sorted([bob.id, world.staff["alice"].employee.id])
    assert len(notices_of(session, production_head.user.id)) == 2


def test_a_department_head_granted_by_name_stops_nobody_s_reminders(rt, session, world,
                                                                    make_persona):
    # An administrator may grant department_head with a typed scope value that is no
    # department id (the grant does not check it). Every binding is now read: one such
    # typo must not make the job fail for the whole city, run after run.
    make_persona("department_head", "department", "销售部")
    session.flush()
    stats = reminders.run(session=session, rt=rt)
    assert stats.reminded == 4 and stats.escalated == 2
