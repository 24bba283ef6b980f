"""The job runner's part: run the analytics runs officials asked for, one at a time."""

from __future__ import annotations

import logging
from pathlib import Path

from passtrace.analytics import service
from passtrace.analytics.models import AnalyticsRun
from passtrace.core.clock import utcnow
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime

log = logging.getLogger("passtrace.analytics")


def _set(rt: Runtime, run_id: object, **values: object) -> None:
    for session in session_scope(rt.sessions, write=True):
        run = session.get(AnalyticsRun, run_id)
        assert run is not None
        for key, value in values.items():
            setattr(run, key, value)


def run_queued(rt: Runtime) -> str:
    """Claim and run every queued run (DuckDB, in this process); a summary."""
    from passtrace.analytics import run as runner
    from passtrace.analytics.params import check

    done = 0
    while True:
        for session in session_scope(rt.sessions, write=True):
            claimed = service.claim_next(session)
            run_id = claimed.id if claimed else None
            job, params = (claimed.job, service.params_of(claimed)) if claimed else ("", {})
        if run_id is None:
            return f"{done} analytics run(s)"
        try:
            checked = check(job, **params)
            _set(rt, run_id, progress=30)  # the lake is read and the job runs
            table = runner.run(job, Path(rt.settings.lake_dir), checked)
            _set(rt, run_id, progress=90)  # the result is written
            out = Path(rt.settings.analytics_results_dir) / f"{run_id}.parquet"
            runner.write(table, out)
            _set(rt, run_id, status="done", progress=100, rows=table.num_rows,
                 finished_at=utcnow())
        except Exception as exc:  # noqa: BLE001 - a failed run is shown, the runner goes on
            log.exception("analytics run %s failed", run_id)
            _set(rt, run_id, status="failed", error=str(exc)[:500], finished_at=utcnow())
        done += 1
