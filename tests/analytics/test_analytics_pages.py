"""The officials' analytics page: ask, watch it run in the job runner, download; audited."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.analytics import jobs as analytics_jobs
from passtrace.analytics.models import AnalyticsRun
from passtrace.audit.models import AuditEntry
from passtrace.core.runtime import Runtime

from . import known

FORM = {"job": "flows", "day_from": "2026-11-02", "day_to": "2026-11-03",
        "window_minutes": "30"}


def _lake(rt: Runtime, tmp_path: Path) -> None:
    rt.settings = rt.settings.model_copy(update={
        "lake_dir": str(known.build(tmp_path / "lake")),
        "analytics_results_dir": str(tmp_path / "results")})


def test_ask_run_download_and_history(rt: Runtime, session: Session, client, make_persona,
                                      tmp_path: Path) -> None:
    _lake(rt, tmp_path)
    official = make_persona("official", "area", "110101")
    resp = client.post("/analytics/runs", data=FORM, headers=official.headers,
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    run_url = resp.headers["location"]
    page = client.get(run_url, headers=official.headers)
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.text  # still waiting

    assert analytics_jobs.run_queued(rt) == "1 analytics run(s)"
    page = client.get(run_url, headers=official.headers)
    assert 'id="download"' in page.text and 'http-equiv="refresh"' not in page.text
    got = client.get(f"{run_url}/result", headers=official.headers)
    assert got.status_code == 200
    assert pq.read_table(io.BytesIO(got.content)).to_pylist() == known.CASES["flows"][1]

    history = client.get("/analytics", headers=official.headers)
    assert history.text.count("data-run=") == 1
    assert official.user.display_name in history.text  # who ran it
    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.actor_user_id == official.user.id)))
    assert {"analytics.request", "analytics.download"} <= actions


def test_refused_without_the_permission_and_on_bad_input(rt: Runtime, session: Session,
                                                         client, make_persona,
                                                         tmp_path: Path) -> None:
    _lake(rt, tmp_path)
    resident = make_persona("public")
    assert client.post("/analytics/runs", data=FORM, headers=resident.headers,
                       follow_redirects=False).status_code == 403
    assert client.get("/analytics", headers=resident.headers).status_code == 403
    official = make_persona("official", "area", "110101")
    bad = client.post("/analytics/runs", data={**FORM, "day_to": "2026-11-01"},
                      headers=official.headers, follow_redirects=False)
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    outside = client.post("/analytics/runs", data={**FORM, "job": "risk-visitors",
                                                   "areas": ["1201"]},
                          headers=official.headers, follow_redirects=False)
    assert outside.status_code == 403
    assert session.scalar(select(func.count()).select_from(AnalyticsRun)) == 0
