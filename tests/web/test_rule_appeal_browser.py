"""Stricter outing rules in a real browser: a resident appeals on their page, an official
over the area overturns it on the officials' page, and the resident reads the decision."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser

HGY1 = "520102006001"  # the demo compound of "resident", managed by "community"


@pytest.fixture
def tightened(live_server: LiveServer) -> Iterator[None]:
    """The demo manager makes HGY1's rules stricter (a shorter longest time out); the
    rules as they were come back afterwards whatever the test did."""
    headers = {"Authorization": f"Bearer {live_server.api_token('community')}"}
    url = f"{live_server.url}/api/v1/communities/{HGY1}"
    before = httpx.get(url, headers=headers, timeout=10).json()
    keys = ("max_out_per_household", "outings_per_window", "window_days", "curfew_start",
            "curfew_end", "max_out_minutes", "visitor_approval")
    rules = {k: before[k] for k in keys}
    shorter = rules["max_out_minutes"] - 1 if rules["max_out_minutes"] else 600
    resp = httpx.put(f"{url}/rules", headers=headers, timeout=10, json={
        **rules, "max_out_minutes": shorter, "reason_code": "directive",
        "reason": "区防控办通知：外出不超过十小时"})
    assert resp.status_code == 200, resp.text
    yield
    httpx.put(f"{url}/rules", headers=headers, timeout=10, json=rules)


def test_a_resident_appeals_and_an_official_overturns_it_on_the_page(
        new_context: Callable[..., Any], live_server: LiveServer, tightened: None) -> None:
    resident = new_context().new_page()
    login(resident, "resident")
    resident.goto("/notices")
    link = resident.locator("a[href^='/community/rule-changes/']").first
    change_url = link.get_attribute("href")
    assert change_url and re.fullmatch(r"/community/rule-changes/[0-9a-f-]{36}", change_url)
    resident.goto(change_url)
    assert "区防控办通知：外出不超过十小时" in resident.inner_text("#rule-change-reason")
    resident.fill("#text", "太短")
    with resident.expect_navigation():
        resident.click("#rule-appeal-submit")
    assert resident.locator("#text-error").is_visible()  # too short: said, nothing filed
    resident.fill("#text", "我每天上夜班，通勤加工作超过十个小时")
    with resident.expect_navigation():
        resident.click("#rule-appeal-submit")
    assert "申诉已提交" in resident.inner_text("#appeal-status")
    assert resident.locator("#rule-appeal-form").count() == 0

    official = new_context().new_page()
    login(official, "official_nm")
    official.click("#tile-rule-appeals")
    official.wait_for_url("**/community-rule-appeals")
    card = official.locator(".rule-appeal", has_text="我每天上夜班")
    assert "张*" in card.locator(".appellant").inner_text()
    assert "张三" not in card.inner_text()
    card.locator("select[name=outcome]").select_option("reversed")
    card.locator("input[name=reason]").fill("夜班通勤确需更长时间")
    with official.expect_navigation():
        card.locator("button[type=submit]").click()
    assert official.locator("#rule-appeal-decided").is_visible()
    assert official.locator(".rule-appeal", has_text="我每天上夜班").count() == 0

    resident.goto(change_url)
    assert "申诉成功：已恢复原来的外出规则" in resident.inner_text("#appeal-status")
    assert "夜班通勤确需更长时间" in resident.inner_text("main")
    resident.goto("/notices")
    assert "夜班通勤确需更长时间" in resident.inner_text("main")
