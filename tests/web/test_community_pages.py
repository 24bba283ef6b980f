"""The compound in a real browser: the manager's overview and rules, the resident's household,
and the community notes on the gate's result screen (demo data, Chinese)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from passtrace.demo import demo_id_number
from tests.web.conftest import LiveServer, follow, login

pytestmark = pytest.mark.browser

HGY1 = "520102006001"
RESIDENT_ID = demo_id_number("520102", "19900307", "013")  # 张三, the demo login "resident"
RULE_FIELDS = ("max_out_per_household", "outings_per_window", "window_days", "curfew_start",
               "curfew_end", "max_out_minutes", "visitor_approval")


@pytest.fixture
def hgy1_rules(live_server: LiveServer) -> Iterator[None]:
    """Put the demo compound's rules back afterwards (other browser tests share the server)."""
    headers = {"Authorization": f"Bearer {live_server.api_token('community')}"}
    url = f"{live_server.url}/api/v1/communities/{HGY1}"
    before = httpx.get(url, headers=headers, timeout=10).json()
    yield
    resp = httpx.put(f"{url}/rules", json={**{f: before[f] for f in RULE_FIELDS},
                                           "reason_code": "other", "reason": "测试后恢复原规则"},
                     headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text


def test_the_manager_reads_the_overview_and_sets_a_rule(
        new_context: Callable[..., Any], hgy1_rules: None, shot: Any, tmp_path: Any,
        clock_stopped: datetime) -> None:
    # clock_stopped: the overview's "overdue" is compared with the list read seconds later;
    # a demo outing reaching its time limit in between would change it.
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, "community")
    follow(page, "#tile-community")
    assert page.url.endswith(f"/communities/{HGY1}")  # one compound: straight to it
    assert page.locator("h1").inner_text() == "花果园第一社区"
    assert int(page.inner_text("#stat-households")) > 0
    assert int(page.inner_text("#stat-residents")) > int(page.inner_text("#stat-households"))
    chart = page.locator("#in-out-chart svg")
    assert chart.is_visible() and chart.bounding_box()["height"] > 100
    assert chart.locator("rect").count() == 24 * 2 + 2  # entries and exits per hour, legend
    out_now, overdue = int(page.inner_text("#stat-out")), int(page.inner_text("#stat-overdue"))
    shot(page, "community-overview", full_page=True)

    # The rules: a half-given curfew is refused next to its field, and nothing changes.
    follow(page, "#nav-rules")
    page.fill("#max_out_per_household", "2")
    page.fill("#curfew_start", "23:00")
    page.fill("#curfew_end", "")
    with page.expect_navigation():
        page.click("#rules-submit")
    assert page.locator("#curfew_end[aria-invalid=true]").count() == 1
    assert page.inner_text("#error-curfew_end")
    shot(page, "community-rules-error", full_page=True)
    page.fill("#curfew_end", "05:30")
    with page.expect_navigation():
        page.click("#rules-submit")
    assert page.url.endswith(f"/communities/{HGY1}?saved=rules#rules")
    rules = page.inner_text("#rule-lines")
    assert "每户同时最多 2 人外出" in rules and "23:00–05:30" in rules
    assert page.locator("#saved").is_visible()

    # Making a rule stricter is coercive: the page asks for a reason from the list and
    # words of its own, and saves nothing without them.
    follow(page, "#nav-rules")
    page.fill("#max_out_per_household", "1")
    with page.expect_navigation():
        page.click("#rules-submit")
    assert page.locator("#reason_code[aria-invalid=true]").count() == 1
    assert page.inner_text("#error-reason_code") == "请从列表中选择原因。"
    assert page.input_value("#max_out_per_household") == "1"  # what was typed stays
    shot(page, "community-rules-reason", full_page=True)
    page.select_option("#reason_code", "cases_nearby")
    page.fill("#reason", "邻街出现确诊病例")
    with page.expect_navigation():
        page.click("#rules-submit")
    assert page.url.endswith(f"/communities/{HGY1}?saved=rules#rules")
    assert "每户同时最多 1 人外出" in page.inner_text("#rule-lines")

    # Who is out: the overdue first in red; households with who is out.
    follow(page, "#nav-out")
    assert page.locator("#out-list tbody tr").count() == max(out_now, 1)
    assert page.locator("#out-list tr.overdue").count() == overdue
    shot(page, "community-out", full_page=True)
    follow(page, "#nav-households")
    page.select_option("#f-building", "3")
    with page.expect_navigation():
        page.click("#household-filter button")
    assert "3栋2单元501" in page.inner_text("main")
    shot(page, "community-households", full_page=True)

    # An import with a bad row: the row-by-row report, and nothing imported.
    sheet = tmp_path / "households.csv"
    sheet.write_bytes(("楼栋,单元,房号,姓名,身份证号,手机号,身份\n"
                       f"3,2,502,钱七,{demo_id_number('520102', '19770707', '551')},,业主\n"
                       "99,1,101,孙八,520102197707070000,,家属\n").encode())
    follow(page, "#nav-import")
    page.set_input_files("#file", str(sheet))
    with page.expect_navigation():
        page.click("#import-submit")
    assert page.locator("#import-refused").is_visible()
    assert page.locator("#import-problems tbody tr").count() == 2  # building 99, check digit
    shot(page, "community-import-report", full_page=True)

    # On the manager's phone: one card per resident, nothing wider than the screen.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                        has_touch=True).new_page()
    login(phone, "community")
    phone.goto(f"/communities/{HGY1}/households?building=3&room=501")
    assert phone.locator("#households tr.resident").count() >= 4
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "community-households-phone", full_page=True)
    phone.goto(f"/communities/{HGY1}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "community-overview-phone", full_page=True)


def test_the_resident_sees_their_household(new_context: Callable[..., Any], shot: Any) -> None:
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                       has_touch=True).new_page()
    login(page, "resident")
    follow(page, "#tile-household")
    assert page.url.endswith("/community")
    assert "3栋2单元501" in page.inner_text("#household-label")
    members = page.locator("#members ul.members li")
    assert members.count() == 4  # 张三, spouse, child, parent
    assert "本人" in page.inner_text("#members")
    assert page.locator("#pass-link").is_visible()
    assert page.locator("#invite-link").get_attribute("href") == "/community/visits"
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "community-mine", full_page=True)
    with page.expect_navigation():
        page.click("#pass-link")
    assert "/passes/" in page.url


def test_the_gate_shows_the_community_notes(new_context: Callable[..., Any],
                                            shot: Any) -> None:
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                       has_touch=True).new_page()
    login(page, "gate")
    page.goto("/checkpoint?site=GATE-HGY1-N")
    page.wait_for_selector("body[data-checkpoint-ready='true']")
    # Let the page's start-up calls (trust list, sync, heartbeat) finish: the notes come
    # from the server, so this check must be decided online.
    page.wait_for_load_state("networkidle")
    page.click("[data-direction=out]")
    page.fill("#id-number", RESIDENT_ID)
    page.click("#id-form button[type=submit]")
    page.wait_for_selector("#result:not([hidden])")
    assert page.get_attribute("#result", "data-source") == "server"
    notes = page.locator("#result-notes")
    assert notes.is_visible()
    lines = notes.locator("li").all_inner_texts()
    assert "3栋2单元501" in lines[0] and "业主" in lines[0]
    assert any("宵禁" in line for line in lines)  # the compound's rules follow
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "community-gate-notes")
    decision = page.get_attribute("#result", "data-decision")
    page.click("#next-button")
    if decision == "allow":  # bring them back in, so the demo household is as it was
        page.click("[data-direction=in]")
        page.fill("#id-number", RESIDENT_ID)
        page.click("#id-form button[type=submit]")
        page.wait_for_selector("#result:not([hidden])")
        assert page.get_attribute("#result", "data-decision") == "allow"
