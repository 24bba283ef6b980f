"""Each kind goes at its own cutoff: a daily report with its stops, notices and expired
login sessions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import AuthSession
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.notices.models import Notice
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.retention import service
from tests.reports.conftest import file


def _count(session: Session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_reports_with_stops_notices_and_sessions_go_at_their_cutoff(
        rt: Runtime, session: Session, client, world):
    alice = world.staff["alice"]
    resp = file(client, alice.persona, world.today)
    assert resp.status_code in (200, 201), resp.text
    report_id = session.scalar(select(DailyReport.id).where(
        DailyReport.employee_id == alice.employee.id))
    user_id = alice.persona.user.id
    session.add(Notice(user_id=user_id, kind="test", message="Hello", dedupe_key="ret:n1"))
    session.commit()
    assert _count(session, ReportStop, ReportStop.report_id == report_id) > 0

    # 20 days on: the report is within its 28 days; the session expired 19 days ago.
    service.run(sessions=rt.sessions, settings=rt.settings, trigger="job",
                now=utcnow() + timedelta(days=20))
    session.expire_all()
    assert session.get(DailyReport, report_id) is not None
    assert _count(session, Notice, Notice.user_id == user_id) == 1
    assert _count(session, AuthSession, AuthSession.user_id == user_id) == 0

    stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job",
                        now=utcnow() + timedelta(days=30))
    session.expire_all()
    assert session.get(DailyReport, report_id) is None
    assert _count(session, ReportStop, ReportStop.report_id == report_id) == 0
    assert _count(session, Notice, Notice.user_id == user_id) == 0
    assert stats.deleted["daily_reports"] >= 1 and stats.deleted["notices"] >= 1
