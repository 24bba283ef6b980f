"""Cases go by their own period after they were closed, with their contacts, tracing
tasks and history; an open case never goes; verification findings go by the normal
period (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passtrace.audit import verify as chain_verify
from passtrace.cases.models import Case, CaseEvent
from passtrace.cli.main import app as cli
from passtrace.core import migrate
from passtrace.core.db import make_engine, make_sessionmaker
from passtrace.core.runtime import Runtime
from passtrace.reports.models import DailyReport
from passtrace.retention import service
from passtrace.tracing.models import Contact, ReportFinding, TracingTask
from tests.retention.helpers import days_ago
from tests.tracing import world


def _case(session: Session, rt: Runtime, *, closed_days_ago: float | None) -> uuid.UUID:
    """A case with two contacts (one found through the other), a task and an event."""
    p = world.person(session, rt)
    c = world.case(session, p)
    if closed_days_ago is not None:
        c.status, c.closed_at = "closed", days_ago(closed_days_ago)
    exposed = days_ago(closed_days_ago or 0) - timedelta(days=5)
    first = Contact(case_id=c.id, person_hash=uuid.uuid4().hex, kind="close", depth=1,
                    first_exposure=exposed, last_exposure=exposed,
                    quarantine_until=exposed.date() + timedelta(days=14),
                    evidence=[{"kind": "household"}], found_at=exposed)
    session.add(first)
    session.flush()
    session.add(Contact(case_id=c.id, person_hash=uuid.uuid4().hex, kind="secondary",
                        depth=2, via_contact_id=first.id, first_exposure=exposed,
                        last_exposure=exposed, quarantine_until=exposed.date(),
                        evidence=[], found_at=exposed))
    session.add(TracingTask(contact_id=first.id, area_code=world.AREA, due_at=exposed))
    session.add(CaseEvent(case_id=c.id, at=exposed, action="created"))
    session.commit()
    return c.id


def _left(session: Session, case_id: uuid.UUID) -> tuple[int, int, int, int]:
    """Rows left of a case, its contacts, their tasks and its history."""
    contacts = select(Contact.id).where(Contact.case_id == case_id)
    return (
        session.scalar(select(func.count()).select_from(Case).where(Case.id == case_id)) or 0,
        session.scalar(select(func.count()).select_from(contacts.subquery())) or 0,
        session.scalar(select(func.count()).select_from(TracingTask)
                       .where(TracingTask.contact_id.in_(contacts))) or 0,
        session.scalar(select(func.count()).select_from(CaseEvent)
                       .where(CaseEvent.case_id == case_id)) or 0)


def test_an_old_closed_case_goes_with_its_contacts_open_and_recent_ones_stay(
        rt: Runtime, session: Session):
    assert rt.settings.case_retention_days == 180
    old_closed = _case(session, rt, closed_days_ago=200)
    old_open = _case(session, rt, closed_days_ago=None)
    recent_closed = _case(session, rt, closed_days_ago=30)
    case = session.get(Case, old_open)
    assert case is not None
    case.created_at = days_ago(400)
    session.commit()

    stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
    session.expire_all()
    assert _left(session, old_closed) == (0, 0, 0, 0)
    assert _left(session, old_open) == (1, 2, 1, 1)
    assert _left(session, recent_closed) == (1, 2, 1, 1)
    assert stats.deleted["cases"] == 1
    receipt = service.receipts(session=session)[0]
    assert receipt["kind"] == "cases" and receipt["rows"] == 1
    assert chain_verify.verify(session=session).broken is None

    # The period is its own: a shorter case period takes the recent closed case too,
    # and movements' period does not touch cases.
    shorter = rt.settings.model_copy(update={"case_retention_days": 20, "retention_days": 1})
    service.run(sessions=rt.sessions, settings=shorter, trigger="job")
    session.expire_all()
    assert _left(session, recent_closed) == (0, 0, 0, 0)
    assert _left(session, old_open) == (1, 2, 1, 1)


def test_verification_findings_go_by_the_normal_period(rt: Runtime, session: Session):
    report = DailyReport(report_date=days_ago(1).date(), submitted_at=days_ago(1))
    session.add(report)
    session.flush()
    old = ReportFinding(id=uuid.uuid4(), report_id=report.id, finding_class="corroborated",
                        detail={}, computed_at=days_ago(40))
    recent = ReportFinding(id=uuid.uuid4(), report_id=report.id,
                           finding_class="contradiction", detail={}, computed_at=days_ago(2))
    session.add_all([old, recent])
    session.commit()
    old_id, recent_id, report_id = old.id, recent.id, report.id
    stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
    session.expire_all()
    assert session.get(ReportFinding, old_id) is None
    assert session.get(ReportFinding, recent_id) is not None
    assert session.get(DailyReport, report_id) is not None
    assert stats.deleted["report_findings"] == 1


def test_cli_status_lists_cases_and_findings_with_their_periods(fresh_url: str, rt: Runtime,
                                                                monkeypatch):
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", fresh_url)
    monkeypatch.setenv("COLUMNS", "160")  # rich would shorten the kinds' names
    engine = make_engine(fresh_url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        _case(session, rt, closed_days_ago=200)
    status = CliRunner().invoke(cli, ["retention", "status"])
    assert status.exit_code == 0, status.output
    cases = next(x for x in status.output.splitlines() if "cases" in x)
    assert "│ 1 " in cases and "180" in cases
    # The kind's name may be shortened by a console created narrower earlier in the run.
    assert any("report_f" in x and "28" in x for x in status.output.splitlines()), status.output
    run = CliRunner().invoke(cli, ["retention", "run"])
    assert run.exit_code == 0, run.output
    assert "cases: 1 deleted" in run.output
    engine.dispose()
