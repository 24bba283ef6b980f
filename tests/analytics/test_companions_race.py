"""Two officials add two companions runs to one case's contacts at the same moment: the
person both runs found is stored once, holding both runs' evidence (without the case lock
each would write back its own merge and the later one would drop the other's)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.analytics import flows
from passtrace.analytics import run as runner
from passtrace.analytics.lake.tables import UTC_TS
from passtrace.analytics.models import AnalyticsRun
from passtrace.cases.models import Case
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.core.security import Binding, Principal
from passtrace.tracing.models import Contact, TracingTask
from tests.concurrency import committed_rt, committed_url, is_postgres, race  # noqa: F401 - fixtures
from tests.tracing.world import T0, case, person

OFFICIAL = Principal(user_id=uuid.uuid4(), username="o", display_name="流调员",
                     person_id=None, bindings=(Binding("official", "area", "520102"),))


def _finished_run(session: Session, results: Path, c: Case, companion: str,
                  minutes: int) -> uuid.UUID:
    """A companions run over the case, done, whose result finds `companion` once."""
    run = AnalyticsRun(job="companions", params={
        "day_from": T0.date().isoformat(), "day_to": T0.date().isoformat(),
        "case_ids": [str(c.id)], "area_codes": ["520102"], "window_minutes": 30},
        status="done", progress=100, rows=1, area_scope="520102", requested_at=utcnow())
    session.add(run)
    session.flush()
    at = T0 + timedelta(minutes=minutes)
    table = pa.table({"date": pa.array([T0.date()], pa.date32()),
                      "index_hash": [c.person_hash], "person_hash": [companion],
                      "window_hits": pa.array([1], pa.int64()),
                      "stay_overlaps": pa.array([0], pa.int64()),
                      "first_at": pa.array([at], UTC_TS), "last_at": pa.array([at], UTC_TS)})
    runner.write(table, results / f"{run.id}.parquet")
    return run.id


def test_two_runs_added_to_one_case_at_once_keep_both(committed_rt: Runtime,  # noqa: F811
                                                      tmp_path: Path) -> None:
    rt = committed_rt
    rt.settings = rt.settings.model_copy(update={"analytics_results_dir": str(tmp_path)})
    with rt.sessions() as session:
        c = case(session, person(session, rt))
        a = person(session, rt)
        first = _finished_run(session, tmp_path, c, a.id_hash, 5)
        second = _finished_run(session, tmp_path, c, a.id_hash, 25)
        session.commit()
        case_id, a_id = c.id, a.id

    def add(run_id: uuid.UUID):  # type: ignore[no-untyped-def]
        def call(session: Session) -> None:
            flows.to_contacts(session=session, settings=rt.settings, actor=OFFICIAL,
                              run_id=run_id, case_id=case_id)
        return call

    # Both have read the run before either adds (what the request reads first).
    outcomes = race(rt, add(first), add(second),
                    before=lambda s: s.get(AnalyticsRun, first).status)
    with rt.sessions() as session:
        rows = list(session.scalars(select(Contact).where(Contact.case_id == case_id)))
        tasks = session.scalars(select(TracingTask).where(
            TracingTask.contact_id.in_([r.id for r in rows]))).all()
    assert [r.person_id for r in rows] == [a_id]  # stored once
    assert len(tasks) == 1
    runs = {e["run"] for e in rows[0].evidence}
    if is_postgres(rt):
        assert outcomes == ["ok", "ok"]
        assert runs == {str(first), str(second)}  # the second waited, then merged
        assert rows[0].first_exposure == T0 + timedelta(minutes=5)
        assert rows[0].last_exposure == T0 + timedelta(minutes=25)
    else:
        # SQLite refuses the second writer (503: the official retries).
        assert sorted(outcomes) == ["busy", "ok"]
        assert len(runs) == 1
