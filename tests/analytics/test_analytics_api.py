"""The analytics API and who sees which run: a district official's runs stay in the
district, a city official sees every run, a case of another district is refused."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.analytics import jobs as analytics_jobs
from passtrace.analytics.models import AnalyticsRun
from passtrace.audit.models import AuditEntry
from passtrace.core.runtime import Runtime
from tests.conftest import next_id_number

from . import known
from .test_analytics_pages import _lake

BODY = {"job": "flows", "day_from": "2026-11-02", "day_to": "2026-11-03"}
RUNS = "/api/v1/analytics/runs"


def test_ask_follow_and_download_through_the_api(rt: Runtime, session: Session, client,
                                                 make_persona, tmp_path: Path) -> None:
    _lake(rt, tmp_path)
    official = make_persona("official", "global")
    asked = client.post(RUNS, json=BODY, headers=official.headers)
    assert asked.status_code == 202, asked.text
    run = asked.json()
    assert run["status"] == "queued" and run["result_url"] is None
    assert analytics_jobs.run_queued(rt) == "1 analytics run(s)"
    done = client.get(f"{RUNS}/{run['id']}", headers=official.headers).json()
    assert done["status"] == "done" and done["rows"] == 2
    got = client.get(done["result_url"], headers=official.headers)
    assert got.status_code == 200
    assert pq.read_table(io.BytesIO(got.content)).to_pylist() == known.CASES["flows"][1]
    listed = client.get(RUNS, headers=official.headers).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.actor_user_id == official.user.id)))
    assert {"analytics.request", "analytics.download"} <= actions


def test_a_district_officials_runs_stay_in_the_district(rt: Runtime, session: Session,
                                                       client, make_persona,
                                                       tmp_path: Path) -> None:
    _lake(rt, tmp_path)
    dongcheng = make_persona("official", "area", "110101")
    colleague = make_persona("official", "area", "110101")
    xicheng = make_persona("official", "area", "110102")
    city = make_persona("official", "global")
    # No area given: the run is confined to the official's own district, and its
    # answer holds only moves out of or into it.
    asked = client.post(RUNS, json={**BODY, "job": "site-load"}, headers=dongcheng.headers)
    assert asked.status_code == 202, asked.text
    run = asked.json()
    assert run["params"]["area_codes"] == ["110101"]
    analytics_jobs.run_queued(rt)
    url = f"{RUNS}/{run['id']}"
    assert client.get(url, headers=colleague.headers).status_code == 200
    assert client.get(url, headers=city.headers).status_code == 200
    assert client.get(url, headers=xicheng.headers).status_code == 404
    assert client.get(f"{url}/result", headers=xicheng.headers).status_code == 404
    assert client.get(RUNS, headers=xicheng.headers).json()["items"] == []
    rows = pq.read_table(io.BytesIO(client.get(f"{url}/result",
                                               headers=colleague.headers).content))
    assert set(rows.column("site_id").to_pylist()) == {known.SITE_A}  # 110101's only site
    # Another district's area is refused outright, and nothing is queued.
    before = session.scalar(select(func.count()).select_from(AnalyticsRun))
    outside = client.post(RUNS, json={**BODY, "area_codes": ["120101"]},
                          headers=dongcheng.headers)
    assert outside.status_code == 403
    assert session.scalar(select(func.count()).select_from(AnalyticsRun)) == before


def test_companions_start_from_a_case_of_the_officials_district(
        rt: Runtime, session: Session, client, make_persona, tmp_path: Path) -> None:
    _lake(rt, tmp_path)
    # Cases live in the reference area tree (Guiyang): Nanming and Yunyan districts.
    dongcheng = make_persona("official", "area", "520102")
    xicheng = make_persona("official", "area", "520103")
    made = client.post("/api/v1/cases", headers=dongcheng.headers, json={
        "id_number": next_id_number(), "onset_date": date(2026, 11, 3).isoformat(),
        "area_code": "520102"})
    assert made.status_code == 201, made.text
    body = {**BODY, "job": "companions", "case_ids": [made.json()["id"]],
            "area_codes": []}
    assert client.post(RUNS, json=body, headers=dongcheng.headers).status_code == 202
    assert client.post(RUNS, json=body, headers=xicheng.headers).status_code == 404
    unknown = {**body, "case_ids": ["30000000-0000-0000-0000-000000000009"]}
    assert client.post(RUNS, json=unknown, headers=dongcheng.headers).status_code == 404


def test_bad_input_is_refused_and_queues_nothing(rt: Runtime, session: Session, client,
                                                make_persona, tmp_path: Path) -> None:
    _lake(rt, tmp_path)
    official = make_persona("official", "global")
    resident = make_persona("public")
    for body in ({**BODY, "job": "everything"}, {**BODY, "day_to": "2026-11-01"},
                 {**BODY, "area_codes": ["not-a-code"]}, {**BODY, "window_minutes": 0},
                 {**BODY, "job": "companions"}, {**BODY, "day_from": "yesterday"}):
        resp = client.post(RUNS, json=body, headers=official.headers)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["error"]["message"]  # a clear, translated reason
    assert client.post(RUNS, json=BODY, headers=resident.headers).status_code == 403
    assert client.get(RUNS, headers=resident.headers).status_code == 403
    assert session.scalar(select(func.count()).select_from(AnalyticsRun)) == 0
