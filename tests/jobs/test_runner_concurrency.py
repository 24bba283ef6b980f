"""The job runner against real concurrency: committed data in a database of its own,
each actor in its own thread, session and transaction.

- a slow gateway holds no write lock: a gate registration made while the runner waits
  on it succeeds at once (SQLite, where one writer blocks all others);
- two runners never send the same message twice (PostgreSQL SKIP LOCKED; SQLite too);
- two transactions enqueueing one dedupe key leave one row;
- two runners renewing the same household passes sign one new pass each.
"""

from __future__ import annotations

import threading
import time as clock_time
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from passtrace.communities.compounds import jobs as community_jobs
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Resident
from passtrace.communities.compounds.schemas import ResidentCreate
from passtrace.core import outbox
from passtrace.core.db import make_sessionmaker
from passtrace.core.ids import uuid7
from passtrace.core.outbox import OutboxMessage
from passtrace.core.runtime import Runtime
from passtrace.demo import demo_id_number
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.jobs.delivery import deliver_due
from passtrace.jobs.runner import Runner
from passtrace.jobs.schedule import scheduled_jobs
from passtrace.passes.models import Pass
from passtrace.registrations import service as reg_service
from passtrace.registrations.schemas import RegistrationIn
from tests.concurrency import compound_with_gates, own_database
from tests.jobs.gateway import Gateway, free_port, with_gateways

CODE = "520102006001"
GATE = "GATE-J-N"
RESIDENTS = 6


class Deployed:
    """A compound with a gate and residents, and an enterprise whose one employee is
    overdue with the daily report (so the reminders job has work), all committed."""

    def __init__(self, rt: Runtime, actor: Any, ids: list[str]) -> None:
        self.rt, self.actor, self.ids = rt, actor, ids


@pytest.fixture(params=["postgresql", "sqlite"])
def deployed(request: pytest.FixtureRequest) -> Iterator[Deployed]:
    with own_database(request.param, "passtrace_jobs") as rt:
        with Session(rt.engine, expire_on_commit=False) as session:
            actor = compound_with_gates(session, rt, code=CODE, name="任务小区", gates=[GATE])
            ids = []
            for i in range(RESIDENTS):
                id_number = demo_id_number("520102", "19800101", f"{500 + i:03d}")
                community_service.add_resident(
                    session=session, rt=rt, actor=actor, code=CODE, data=ResidentCreate(
                        building="1", unit="1", room=f"{101 + i}", id_number=id_number,
                        name="住户", role="family"))
                ids.append(id_number)
            ent = Enterprise(credit_code="91520102MA6DJOBS1X", name="任务公司",
                             area_code="520102006", report_deadline=time(0, 0))
            session.add(ent)
            session.flush()
            dept = Department(enterprise_id=ent.id, name="办公室")
            session.add(dept)
            session.flush()
            first = session.scalars(select(Resident).order_by(Resident.created_at)).first()
            assert first is not None
            session.add(Employee(enterprise_id=ent.id, department_id=dept.id,
                                 person_id=first.person_id, user_id=actor.user_id,
                                 employee_no="E1"))
            session.commit()
        yield Deployed(rt, actor, ids)


def _go_out(d: Deployed, id_number: str) -> str:
    """A gate registration, committed, as the gate phone makes it; its decision."""
    now = datetime.now(UTC)
    data = RegistrationIn(id=uuid7(), site=GATE, lane="1", device_key=GATE, occurred_at=now,
                          sent_at=now, direction="out", method="id_typed",
                          id_number=id_number, temperature=36.5)
    with make_sessionmaker(d.rt.engine)() as session:
        checked = reg_service.register(session=session, rt=d.rt, actor=d.actor, data=data)
        session.commit()
        return checked.row.decision


def test_a_gate_registration_succeeds_while_the_runner_waits_on_a_slow_gateway(deployed):
    d = deployed
    gateway = Gateway(port=free_port(), sleep_s=4.0)
    gateway.start()
    try:
        d.rt.settings = with_gateways(d.rt.settings, webhook=gateway)
        runner = Runner(d.rt, scheduled_jobs())
        # The runner runs the reminders job (one overdue employee), then delivers its
        # gateway copy to a gateway that takes 4 s to answer.
        thread = threading.Thread(target=runner.tick, kwargs={"every_job": True})
        thread.start()
        assert gateway.waiting.wait(20), "the runner never reached the gateway"
        started = clock_time.monotonic()
        decision = _go_out(d, d.ids[1])
        took = clock_time.monotonic() - started
        still_waiting = thread.is_alive()
        thread.join(30)
        assert decision == "allow"
        # Committed while the gateway was still sleeping: no lock was held across the send.
        assert still_waiting and took < 2.0, took
        assert [k for k in gateway.idempotency_keys() if k.startswith("notice:remind:")] \
            and len(gateway.idempotency_keys()) == 1
    finally:
        gateway.stop()


def test_two_runners_never_send_the_same_message_twice(deployed):
    d = deployed
    gateway = Gateway(port=free_port(), sleep_s=0.01)
    gateway.start()
    try:
        d.rt.settings = with_gateways(d.rt.settings, webhook=gateway)
        with Session(d.rt.engine) as session:
            for i in range(60):
                outbox.enqueue(session=session, channel="webhook", dedupe_key=f"k:{i}",
                               payload={"n": i})
            session.commit()
        barrier = threading.Barrier(2)
        errors: list[str] = []

        def run() -> None:
            barrier.wait()
            deadline = clock_time.monotonic() + 60
            while clock_time.monotonic() < deadline:
                try:
                    if not deliver_due(d.rt, batch=5).sent:
                        with Session(d.rt.engine) as s:
                            if not outbox.counts(session=s)["pending"]:
                                return
                except OperationalError as exc:  # SQLite: the other runner is writing
                    if "locked" not in str(exc):
                        errors.append(repr(exc))
                        return

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert not errors, errors
        keys = gateway.idempotency_keys()
        assert sorted(keys) == sorted(f"k:{i}" for i in range(60))  # each once, none twice
        with Session(d.rt.engine) as session:
            assert outbox.counts(session=session)["sent"] == 60
    finally:
        gateway.stop()


def test_two_transactions_enqueueing_one_key_leave_one_row(deployed):
    d = deployed
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def enqueue() -> None:
        with make_sessionmaker(d.rt.engine)() as session:
            try:
                barrier.wait()
                added = outbox.enqueue(session=session, channel="sms", dedupe_key="otp:1",
                                       payload={"phone": "13800000000", "text": "1"})
                clock_time.sleep(0.2)  # both inside their transactions at once
                session.commit()
                outcomes.append(str(added))
            except OperationalError as exc:  # SQLite: refused as busy, the client retries
                session.rollback()
                outcomes.append("busy" if "locked" in str(exc) else repr(exc))

    for _ in range(3):
        threads = [threading.Thread(target=enqueue) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    with Session(d.rt.engine) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert outcomes.count("True") == 1, outcomes
    assert set(outcomes) <= {"True", "False", "busy"}, outcomes


def test_two_runners_renewing_household_passes_sign_one_each(deployed):
    d = deployed
    soon = datetime.now(UTC) + timedelta(days=3)
    with Session(d.rt.engine) as session:
        session.execute(update(Pass).where(Pass.purpose == "household").values(valid_until=soon))
        session.commit()
        before = session.scalar(select(func.count()).select_from(Pass))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def renew() -> None:
        barrier.wait()
        try:
            outcomes.append(str(community_jobs.renew_household_passes(d.rt)))
        except OperationalError as exc:  # SQLite: refused as busy, retried next interval
            outcomes.append("busy" if "locked" in str(exc) else repr(exc))

    threads = [threading.Thread(target=renew) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with Session(d.rt.engine) as session:
        after = session.scalar(select(func.count()).select_from(Pass))
        fresh = session.scalars(select(Pass.valid_until).join(
            Resident, Resident.pass_id == Pass.id)).all()
    assert after - before == RESIDENTS, outcomes  # one new pass per resident, never two
    assert all(until > soon + timedelta(days=100) for until in fresh)
    assert sorted(outcomes) in (["0", str(RESIDENTS)], [str(RESIDENTS), "busy"]), outcomes


def test_two_reminder_runs_at_once_remind_the_overdue_employee_once(deployed):
    # Race: the runner's reminders job and a cron `passtrace reports remind` both find
    # the employee unreminded (reminders._wanted) and both claim; the unique claim key
    # (ON CONFLICT DO NOTHING in reminders._claim) lets one of them win.
    from passtrace.notices.models import Notice
    from passtrace.reports import reminders
    from passtrace.reports.models import ReportReminder
    from tests.concurrency import race

    d = deployed
    outcomes = race(d.rt, *[lambda s: reminders.run(session=s, rt=d.rt)] * 2)
    # SQLite refuses the second writer as busy (the client's retry then finds it sent).
    assert outcomes.count("ok") >= 1 and set(outcomes) <= {"ok", "busy"}, outcomes
    with Session(d.rt.engine) as session:
        assert session.scalar(select(func.count()).select_from(ReportReminder)) == 1
        assert session.scalar(select(func.count()).select_from(Notice).where(
            Notice.kind == "report.remind")) == 1
