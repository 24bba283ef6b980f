"""What field users read, in Chinese (demo data, a 390 px phone): sentences built from a
label and a value take full-width punctuation, and the supplies officer sees each shortage
as a bar of stock against need, not only as numbers in a squeezed table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.core.test_i18n import ASCII_PUNCT_IN_CJK
from tests.web.conftest import login

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HGY1 = "520102006001"


@pytest.mark.parametrize("page_path", ["households", "visits", "out", "rules", "deliveries"])
def test_compound_page_titles_use_chinese_punctuation(
        new_context: Callable[..., Any], page_path: str) -> None:
    page = new_context(viewport=PHONE).new_page()
    login(page, "community")
    page.goto(f"/communities/{HGY1}/{page_path}")
    title = page.locator("h1").inner_text()
    assert title.startswith("花果园第一社区："), title
    assert not ASCII_PUNCT_IN_CJK.search(title), title


def test_visitor_summary_reads_as_a_chinese_sentence(new_context: Callable[..., Any]) -> None:
    page = new_context(viewport=PHONE).new_page()
    login(page, "community")
    page.goto(f"/communities/{HGY1}/visits")
    summary = page.inner_text("#visit-summary")
    assert "：" in summary and not ASCII_PUNCT_IN_CJK.search(summary), summary
    assert not summary.rstrip().endswith("."), summary
    page.goto(f"/communities/{HGY1}/deliveries")
    summary = page.inner_text("#delivery-summary")
    assert summary.endswith("。") and not ASCII_PUNCT_IN_CJK.search(summary), summary


def test_shortages_show_stock_against_need_on_a_phone(new_context: Callable[..., Any],
                                                      shot: Any) -> None:
    page = new_context(viewport=PHONE).new_page()
    login(page, "supplies")
    page.goto("/supplies")
    rows = page.locator("#supplies-shortages tbody tr")
    assert rows.count() > 0  # the demo has short depots
    first = rows.first
    bar = first.locator(".cover-bar")
    assert bar.is_visible()
    label = bar.get_attribute("aria-label") or ""
    assert "天" in label and "需要" in label, label
    filled = bar.locator("span").bounding_box()["width"]
    assert 0 < filled < bar.bounding_box()["width"]  # short: the bar is not full
    # Each shortage opens its days-of-cover curve; each waiting request opens the request.
    assert "/supplies/cover?depot=" in (first.locator("a").first.get_attribute("href") or "")
    assert "/supplies/requests/" in (
        page.locator("#supplies-queue tbody tr a").first.get_attribute("href") or "")
    # Cards on a phone, not a table squeezed to one character per line.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#supplies-stock thead").is_hidden()
    shot(page, "supplies-overview-390", full_page=True)


def test_allocation_starts_from_the_open_requests(new_context: Callable[..., Any]) -> None:
    page = new_context(viewport=PHONE).new_page()
    login(page, "supplies")
    page.goto("/supplies/allocation")
    waiting = page.locator("#allocation-waiting tbody tr")
    assert waiting.count() > 0  # the demo's checkpoint and community asked for items
    first = waiting.first
    with page.expect_navigation():
        first.locator("a.button").click()
    assert page.locator("#allocation-summary").is_visible()  # one tap to the preview
    assert page.locator("#allocation-waiting").count() == 0


def test_days_of_cover_names_the_curve_and_a_depot_its_kind(
        new_context: Callable[..., Any]) -> None:
    page = new_context(viewport=PHONE).new_page()
    login(page, "supplies")
    page.goto("/supplies/cover")
    heading = page.inner_text("#cover-chosen")
    chosen = page.locator("#cover-table tr[aria-current=true]")
    assert chosen.count() == 1
    assert heading.split("：")[0].strip() in chosen.inner_text(), heading
    page = new_context(viewport=PHONE).new_page()
    login(page, "depot_cp")
    page.goto("/supplies/depots")
    assert page.locator("h1").inner_text() == "花果园大道卡口物资点"
    assert page.locator("h1 + p.muted").inner_text() == "卡口库点"  # not "卡口登记"


def test_who_is_home_reads_as_a_state_not_a_direction(new_context: Callable[..., Any]) -> None:
    # "进" is the gate's direction button; a resident who is home is "在小区内".
    page = new_context(viewport=PHONE).new_page()
    login(page, "resident")
    page.goto("/community")
    badges = page.locator(".badge.in").all_inner_texts()
    assert badges and set(badges) == {"在小区内"}, badges
    manager = new_context(viewport=PHONE).new_page()
    login(manager, "community")
    manager.goto(f"/communities/{HGY1}/households")
    assert "在小区内" in manager.locator(".badge.in").first.inner_text()
