"""Two job runners at once (the serving one and a cron `jobs run --once`): a queued
analytics run is claimed by exactly one of them."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from passtrace.analytics import service
from passtrace.analytics.models import AnalyticsRun
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from tests.concurrency import committed_rt, committed_url, is_postgres, race  # noqa: F401 - fixtures


def test_two_runners_claim_a_run_once(committed_rt: Runtime) -> None:  # noqa: F811
    with committed_rt.sessions() as session:
        run = AnalyticsRun(job="flows", params={"day_from": date(2026, 11, 2).isoformat(),
                                                "day_to": date(2026, 11, 3).isoformat()},
                           requested_at=utcnow())
        session.add(run)
        session.commit()
        run_id = run.id
    claimed: list[object] = []

    def claim(session: Session) -> None:
        got = service.claim_next(session)
        if got is not None and got.id == run_id:
            claimed.append(got.id)

    # Both read the queued run before either claims it (the race the claim guards).
    outcomes = race(committed_rt, claim, claim,
                    before=lambda s: s.get(AnalyticsRun, run_id).status)
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]
    else:
        assert sorted(outcomes) in (["busy", "ok"], ["ok", "ok"])
    assert claimed == [run_id]
    with committed_rt.sessions() as session:
        assert session.get(AnalyticsRun, run_id).status == "running"
