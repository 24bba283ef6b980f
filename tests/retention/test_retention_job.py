"""Retention: old rows go, recent rows stay, each batch leaves a chained receipt that
`passtrace audit verify` accepts, a second run changes nothing, and two runners racing
never delete or receipt a row twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passtrace.accounts.models import IdentityAttempt
from passtrace.audit import verify as chain_verify
from passtrace.audit.models import AuditEntry
from passtrace.cli.main import app as cli
from passtrace.core import migrate
from passtrace.core.db import make_engine, make_sessionmaker
from passtrace.core.runtime import Runtime
from passtrace.jobs.schedule import scheduled_jobs
from passtrace.registrations.models import Registration
from passtrace.retention import service
from tests.retention import helpers


def _receipts(session: Session) -> list[dict]:
    return [e.detail for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == service.RECEIPT_ACTION)
        .order_by(AuditEntry.seq))]


def test_old_rows_go_recent_rows_stay_with_chained_receipts(rt: Runtime, session: Session):
    rt.settings.retention_batch_size = 2
    site = helpers.site(session)
    old = [helpers.registration(session, site.id, helpers.days_ago(29 + i)) for i in range(5)]
    recent = helpers.registration(session, site.id, helpers.days_ago(27))
    helpers.attempt(session, helpers.days_ago(40))
    kept_attempt = helpers.attempt(session, helpers.days_ago(1))
    session.commit()

    stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")

    assert stats.deleted["registrations"] == 5 and stats.deleted["identity_attempts"] == 1
    left = set(session.scalars(select(Registration.id).where(Registration.site_id == site.id)))
    assert left == {recent.id}
    assert not {r.id for r in old} & left
    assert session.get(IdentityAttempt, kept_attempt.id) is not None
    receipts = _receipts(session)
    # 5 registrations in batches of 2 make three receipts, plus one for the attempt.
    reg = [r for r in receipts if r["kind"] == "registrations"]
    assert [r["rows"] for r in reg] == [2, 2, 1]
    assert {r["run_id"] for r in receipts} == {str(stats.run_id)}
    assert reg[0]["oldest"] <= reg[0]["newest"] <= reg[1]["oldest"]
    assert chain_verify.verify(session=session).broken is None


def test_a_second_run_deletes_nothing_and_writes_no_receipt(rt: Runtime, session: Session):
    site = helpers.site(session)
    helpers.registration(session, site.id, helpers.days_ago(30))
    session.commit()
    first = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
    receipts = len(_receipts(session))
    second = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
    assert first.deleted["registrations"] == 1
    assert sum(second.deleted.values()) == 0 and second.receipts == 0
    assert len(_receipts(session)) == receipts


def test_the_period_is_configurable(rt: Runtime, session: Session):
    rt.settings.retention_days = 60
    site = helpers.site(session)
    kept = helpers.registration(session, site.id, helpers.days_ago(45))
    session.commit()
    service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
    assert session.get(Registration, kept.id) is not None


def test_the_job_runner_runs_retention():
    assert "retention.delete-expired" in {j.name for j in scheduled_jobs()}


def test_two_runners_racing_delete_and_receipt_each_row_once(committed_rt: Runtime):
    committed_rt.settings.retention_batch_size = 3
    with committed_rt.sessions() as session:
        site = helpers.site(session)
        for i in range(20):
            helpers.registration(session, site.id, helpers.days_ago(200 + i / 10))
        session.commit()
        before = len(_receipts(session))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def runner() -> None:
        barrier.wait(timeout=30)
        try:
            results.append(service.run(sessions=committed_rt.sessions,
                                       settings=committed_rt.settings, trigger="job"))
        except Exception as exc:  # noqa: BLE001 - shown by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(isinstance(r, service.RunStats) for r in results), results
    with committed_rt.sessions() as session:
        receipts = _receipts(session)[before:]
        left = session.scalar(select(func.count()).select_from(Registration)
                              .where(Registration.site_id == site.id))
        assert left == 0
        # Receipts add up to the rows that went: none counted twice by the other runner.
        assert sum(r["rows"] for r in receipts if r["kind"] == "registrations") == 20
        assert sum(s.deleted["registrations"] for s in results) == 20  # type: ignore[union-attr]
        assert chain_verify.verify(session=session).broken is None


def test_cli_status_and_run(fresh_url: str, monkeypatch):
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", fresh_url)
    engine = make_engine(fresh_url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        site = helpers.site(session)
        helpers.registration(session, site.id, helpers.days_ago(35))
        helpers.registration(session, site.id, helpers.days_ago(3))
        session.commit()
    runner = CliRunner()
    status = runner.invoke(cli, ["retention", "status"])
    assert status.exit_code == 0, status.output
    line = next(x for x in status.output.splitlines() if "registrations" in x)
    assert "│ 2 " in line and "28" in line
    run = runner.invoke(cli, ["retention", "run"])
    assert run.exit_code == 0, run.output
    assert "registrations: 1 deleted" in run.output
    status = runner.invoke(cli, ["retention", "status"])
    line = next(x for x in status.output.splitlines() if "registrations" in x)
    assert "│ 1 " in line
    verify = runner.invoke(cli, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    engine.dispose()
