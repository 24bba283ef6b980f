"""The demo's tracing, as the Nanming official finds it after logging in.

The cases, contacts, tasks and findings are made by the real services during the seed
(demo/tracing.py); these tests read them the way the official does, through the pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from passtrace import demo
from passtrace.app import create_app
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Enterprise
from passtrace.tracing.models import ReportFinding
from tests.demo.test_chinese import (
    ENGLISH,
    PROPER_NAMES,
    _visible,
    demo_rt,  # noqa: F401 - the seeded demo, a fixture
)


@pytest.fixture
def official(demo_rt: Runtime) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(create_app(runtime=demo_rt)) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        client.post("/login", data={"username": "official_nm", "password": demo.DEMO_PASSWORD,
                                    "csrf_token": csrf.group(1), "next": "/"})
        yield client


def _seen(client: TestClient, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.text[:300])
    texts = _visible(resp.text)
    english = [t for t in texts if ENGLISH.search(PROPER_NAMES.sub("", t))]
    assert english == [], (path, english)
    return " ".join(texts)


def test_the_official_sees_a_case_with_close_contacts_and_its_chain(official) -> None:
    _seen(official, "/cases")
    cases = sorted(set(re.findall(r'href="(/cases/[0-9a-f-]{36})"',
                                  official.get("/cases").text)))
    assert len(cases) >= 2, "the official sees the demo's cases"
    pages = {c: (_seen(official, f"{c}/contacts"), official.get(f"{c}/contacts").text)
             for c in cases}
    # A close contact's row names its kind in its own cell.
    close = {c: html.count('<td data-label="类型">密切接触者') for c, (_, html) in pages.items()}
    assert sum(close.values()) >= 1, close
    # The confirmed case met people at the hospital (stays) and the checkpoint, and one
    # of them met someone else the day after.
    traced = next(c for c, (text, _) in pages.items() if "同时段停留" in text)
    contacts = pages[traced][0]
    assert close[traced] >= 1 and "同一场所前后数分钟内" in contacts, contacts
    assert "第 2 层" in contacts  # a contact of a contact: the chain goes on
    detail = _seen(official, traced)
    assert "南明区人民医院入口" in detail  # the timeline names the hospital visit
    chain = official.get(f"{traced}/chain")
    assert chain.status_code == 200 and chain.text.count("<circle") + chain.text.count(
        "<rect") >= 3


def test_the_official_sees_overdue_and_reached_tasks(official) -> None:
    _seen(official, "/tracing/tasks?overdue=true")
    overdue = official.get("/tracing/tasks?overdue=true").text
    rows = re.findall(r'<tr data-task="[^"]+"( class="overdue")?>', overdue)
    assert rows and all(rows), "the overdue list holds only overdue tasks"
    every = _seen(official, "/tracing/tasks")
    assert "已电话联系，已集中隔离。" in every and "已电话联系，居家观察。" in every, every
    assert official.get("/tracing/tasks").text.count("<tr data-task=") > len(rows)


def test_the_official_sees_findings_down_to_one_report(official, demo_rt: Runtime) -> None:  # noqa: F811
    with demo_rt.sessions() as session:
        enterprise = session.scalar(select(Enterprise.id).where(
            Enterprise.name == "贵阳黔筑建设工程有限公司"))
        contradicted = session.scalars(select(ReportFinding.report_id).where(
            ReportFinding.finding_class == "contradiction")).first()
    summary = _seen(official, f"/verify/enterprises/{enterprise}")
    assert "矛盾" in summary and "已证实" in summary
    report = _seen(official, f"/verify/reports/{contradicted}")
    assert "矛盾" in report and ("北京路卡口" in report or "人民医院" in report), report
