"""The job runner's table upkeep: with autovacuum off, folded deltas are vacuumed and
tables written all day are analysed, each at most once a minute (jobs/upkeep.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, text

from passtrace.dashboard import rollup, staff
from passtrace.dashboard.models import RegistrationHourDelta, StaffCountDelta
from passtrace.jobs import upkeep
from passtrace.jobs.schedule import scheduled_jobs
from tests.concurrency import is_postgres

NOW = "0 seconds"  # no rate limit: what a run a minute later would do


def _fold_new_deltas(rt: Any, n: int) -> None:
    """Commit n hour deltas (each its own site: n new hour rows) and one staff delta,
    then fold them as dashboard.fold-hours does: n dead delta rows."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with rt.sessions() as session:
        session.execute(insert(RegistrationHourDelta), [
            {"hour": hour, "site_id": uuid.uuid4(), "decision": "allow", "reasons": "",
             "n": 1, "fevers": 0} for _ in range(n)])
        session.execute(insert(StaffCountDelta), [{"enterprise_id": uuid.uuid4(), "n": 1}])
        session.commit()
    with rt.sessions() as session:
        assert rollup.fold(session=session) >= n
        staff.fold(session)
        if is_postgres(rt):
            # Counted for the job at this commit, not up to 10 s later (PostgreSQL 15
            # flushes a backend's table counts at most once a second, or when idle).
            session.execute(text("SELECT pg_stat_force_next_flush()"))
        session.commit()


def _stats(rt: Any, table: str) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT n_dead_tup, last_vacuum, last_analyze FROM pg_stat_user_tables"
            " WHERE relname = :t AND schemaname = current_schema()"), {"t": table}).one()
    return row._asdict()


def test_the_runner_runs_it():
    assert "jobs.table-upkeep" in [j.name for j in scheduled_jobs()]


def test_folded_deltas_are_vacuumed_and_busy_tables_analysed(committed_rt):
    rt = committed_rt
    if not is_postgres(rt):
        _fold_new_deltas(rt, 10)
        assert upkeep.run(rt, again=NOW) == upkeep.Upkeep()  # nothing to do on SQLite
        return
    upkeep.run(rt, again=NOW)  # what earlier tests left due is done first
    _fold_new_deltas(rt, 200)  # few changes: left alone
    done = upkeep.run(rt, again=NOW)
    assert "registration_hour_deltas" not in done.vacuumed
    assert "registration_hours" not in done.analysed

    _fold_new_deltas(rt, 3000)
    before = _stats(rt, "registration_hour_deltas")
    assert before["n_dead_tup"] >= 3000
    hours_before = _stats(rt, "registration_hours")
    done = upkeep.run(rt, again=NOW)
    assert "registration_hour_deltas" in done.vacuumed
    after = _stats(rt, "registration_hour_deltas")
    assert after["n_dead_tup"] < upkeep.MIN_DEAD and after["last_vacuum"] is not None
    # 3,000 new hour rows: the counters' table is analysed, the one-row staff change is not.
    assert "registration_hours" in done.analysed and "staff_counts" not in done.analysed
    hours_after = _stats(rt, "registration_hours")
    assert hours_after["last_analyze"] is not None
    assert hours_after["last_analyze"] != hours_before["last_analyze"]


def test_a_table_is_not_vacuumed_or_analysed_twice_within_a_minute(committed_rt):
    rt = committed_rt
    if not is_postgres(rt):
        pytest.skip("SQLite has no VACUUM or ANALYZE to rate-limit (the job does nothing)")
    _fold_new_deltas(rt, 3000)
    first = upkeep.run(rt, again=NOW)
    assert "registration_hour_deltas" in first.vacuumed
    assert "registration_hours" in first.analysed
    done_at = _stats(rt, "registration_hour_deltas")["last_vacuum"]
    analysed_at = _stats(rt, "registration_hours")["last_analyze"]

    _fold_new_deltas(rt, 3000)  # due again at once, but done less than a minute ago
    assert upkeep.run(rt) == upkeep.Upkeep()
    waiting = _stats(rt, "registration_hour_deltas")
    assert waiting["n_dead_tup"] >= 3000 and waiting["last_vacuum"] == done_at
    assert _stats(rt, "registration_hours")["last_analyze"] == analysed_at

    later = upkeep.run(rt, again=NOW)  # a minute later
    assert "registration_hour_deltas" in later.vacuumed and "registration_hours" in later.analysed
    assert _stats(rt, "registration_hour_deltas")["n_dead_tup"] < upkeep.MIN_DEAD
