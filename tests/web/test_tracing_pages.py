"""The tracing pages in real Chromium: the task list, the chain graph, verification.

The live server runs on the demo, whose tracing (demo/tracing.py) gives the Nanming
official overdue and reached tasks, a case with a chain, and verified reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.cases import service as case_service
from passtrace.cases.schemas import CaseCreate
from passtrace.core.clock import local_today, utcnow
from passtrace.core.ids import uuid7
from passtrace.enterprises.models import Enterprise
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from passtrace.tracing import service as tracing_service
from passtrace.tracing.models import ReportFinding
from tests.conftest import next_id_number
from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


def test_the_official_marks_an_overdue_task_reached(new_context: Callable[..., Any],
                                                    live_server: LiveServer,
                                                    shot: Callable[..., Any]) -> None:
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/tracing/tasks")
    with page.expect_navigation():
        page.click("#overdue-filter")
    overdue = page.locator("#task-table tbody tr")
    before = overdue.count()
    assert before >= 1
    # Only late, unreached tasks, each marked so.
    for i in range(before):
        assert "逾期" in overdue.nth(i).inner_text() and "未联系上" in overdue.nth(i).inner_text()
    shot(page, "tasks-overdue", full_page=True)
    row = overdue.first
    task_id = row.get_attribute("data-task")
    row.locator("select[name=status]").select_option("reached")
    row.locator("input[name=note]").fill("已电话联系，本人同意居家观察")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert page.url.endswith("/tracing/tasks")
    saved = page.locator(f"tr[data-task='{task_id}']")
    assert "已电话联系，本人同意居家观察" in saved.inner_text()
    assert "逾期" not in saved.inner_text()
    assert saved.locator("select[name=status]").input_value() == "reached"
    page.goto("/tracing/tasks?overdue=true")
    assert page.locator("#task-table tbody tr").count() == before - 1
    assert page.locator(f"tr[data-task='{task_id}']").count() == 0


def test_a_bad_task_status_is_refused_in_chinese(new_context: Callable[..., Any],
                                                 live_server: LiveServer) -> None:
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/tracing/tasks")
    row = page.locator("#task-table tbody tr").first
    task_id = row.get_attribute("data-task")
    status = row.locator("select[name=status]").input_value()
    # A tampered form (a status not on the list): the select is edited in the page.
    row.locator("select[name=status]").evaluate(
        "s => { s.options[0].value = 'vanished'; s.selectedIndex = 0; }")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert "请从列表中选择状态。" in page.locator("main").inner_text()
    page.goto("/tracing/tasks")
    assert page.locator(f"tr[data-task='{task_id}'] select[name=status]").input_value() == status


def test_the_chain_graph_draws_the_demo_case_and_groups_a_crowd(
        new_context: Callable[..., Any], live_server: LiveServer,
        shot: Callable[..., Any]) -> None:
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/cases")
    links = page.locator("#case-list a")
    chains = []
    for i in range(links.count()):
        chains.append(links.nth(i).get_attribute("href") + "/chain")
    depths: dict[str, set[str]] = {}
    for url in chains:
        page.goto(url)
        depths[url] = {page.locator("#chain g.node").nth(i).get_attribute("data-depth")
                       for i in range(page.locator("#chain g.node").count())}
    traced = next(u for u, d in depths.items() if {"0", "1", "2"} <= d)
    page.goto(traced)
    assert page.locator("#chain line").count() >= 2
    assert "按地点分组" not in page.content()
    shot(page, "chain-demo", full_page=True)

    # A crowd: 160 people passed a checkpoint within minutes of the case person.
    number = next_id_number()
    at = utcnow() - timedelta(hours=30)
    rt = live_server.rt
    with rt.sessions() as s:
        site = s.scalars(select(Site).where(Site.code == "CP-YY-01")).one()
        rows = [Registration(id=uuid7(), site_id=site.id, lane="1", device_key="browser-test",
                             occurred_at=at + timedelta(seconds=i), received_at=at,
                             direction="through", method="id_typed",
                             person_hash=(rt.vault.lookup_hash(number) if i == 0
                                          else f"crowd-{uuid.uuid4().hex}"),
                             decision="allow", reasons=[]) for i in range(161)]
        s.add_all(rows)
        s.flush()
        case = case_service.create(session=s, rt=rt, actor=None, data=CaseCreate(
            id_number=number, classification="suspected",
            onset_date=local_today() - timedelta(days=1), area_code=site.area_code))
        tracing_service.run(session=s, settings=rt.settings, actor=None, case=case)
        s.commit()
        case_id = case.id
    page = new_context().new_page()
    login(page, "official_yy")
    page.goto(f"/cases/{case_id}/chain")
    note = page.locator("#chain-note").inner_text()
    assert "160" in note and "按地点分组" in note
    nodes = page.locator("#chain g.node")
    assert nodes.count() == 2  # the case and one box for everyone met at the checkpoint
    assert "(160)" in (nodes.nth(1).text_content() or "")
    assert "北京路卡口" in (nodes.nth(1).text_content() or "")
    shot(page, "chain-grouped", full_page=True)


def test_the_verification_summary_drills_down_to_a_report(new_context: Callable[..., Any],
                                                         live_server: LiveServer,
                                                         shot: Callable[..., Any]) -> None:
    with live_server.rt.sessions() as s:
        enterprise = s.scalar(select(Enterprise.id).where(
            Enterprise.name == "贵阳黔筑建设工程有限公司"))
        contradicted = s.scalars(select(ReportFinding.report_id).where(
            ReportFinding.finding_class == "contradiction")).first()
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto(f"/verify/enterprises/{enterprise}")
    days = page.locator("#verify-days tbody tr")
    verified = [days.nth(i).inner_text() for i in range(days.count())]
    # The demo verified "three days ago" counted from the day it was seeded.
    shown = [d for d in verified if str(live_server.seeded_on - timedelta(days=3)) in d]
    assert shown, verified  # the day the demo verified, with its counts
    header = page.locator("#verify-days thead").inner_text()
    assert "矛盾" in header and "已证实" in header and "未报告的到访" in header
    shot(page, "verify-summary", full_page=True)
    first = page.locator("#verify-reports tbody tr").first
    name = first.locator("td").nth(1).inner_text()
    with page.expect_navigation():
        first.locator("a").first.click()  # the date (the name links there too)
    assert "/verify/reports/" in page.url
    assert name in page.locator(".card").inner_text()
    lines = page.locator("#verify-lines tbody tr")
    assert lines.count() >= 1 and page.locator("#verify-lines .badge").count() >= 1
    # The report whose "office" a Yunyan checkpoint contradicted.
    page.goto(f"/verify/reports/{contradicted}")
    bad = page.locator("#verify-lines tr:has(.badge.contradiction)")
    assert bad.count() >= 1 and "矛盾" in bad.first.inner_text()
    shot(page, "verify-report", full_page=True)
