"""Two verifications of one report at once (the job and "verify now"): both succeed, and
the findings are one set, not a unique-key error or a mix."""

from __future__ import annotations

from sqlalchemy import func, select

from passtrace.tracing import verify
from passtrace.tracing.models import ReportFinding
from tests.concurrency import is_postgres, race, tag
from tests.tracing.verify_world import DAY, HOME, OFFICE, at, build


def test_two_runs_on_one_report_replace_rather_than_collide(committed_rt) -> None:  # type: ignore[no-untyped-def]
    with committed_rt.sessions() as session:
        w = build(session, credit_code=f"91{tag()}{tag()}"[:18])
        p, e = w.person()
        r = w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), None)])
        w.seen(p, HOME, at("07:30"))
        session.commit()
        report_id = r.id

    def run(session) -> None:  # type: ignore[no-untyped-def]
        verify.verify(session=session, first=DAY, last=DAY, report_ids=[report_id])

    outcomes = race(committed_rt, run, run)
    if is_postgres(committed_rt):
        # Without the row lock the second run's INSERT hits the first's ids.
        assert outcomes == ["ok", "ok"], outcomes
    else:
        assert "ok" in outcomes and set(outcomes) <= {"ok", "busy"}, outcomes
    with committed_rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReportFinding).where(
            ReportFinding.report_id == report_id)) == 2
