"""The command dashboard in real Chromium, in Chinese: the charts are drawn, hovering
shows a tooltip, a number opens its list, and a new registration shows after a refresh.

The live server runs on the demo: official_nm is Nanming's official, official_gy the city's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.core.clock import local_day_bounds, local_today, utcnow
from passtrace.core.ids import uuid7
from passtrace.health import service as health
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.health.conftest import flag, new_person
from tests.web.conftest import LiveServer, login
from tests.web.zh_walk import VISIBLE_TEXT, leaked_words

pytestmark = pytest.mark.browser


def _today(page: Any) -> int:
    return int(page.inner_text("[data-figure='registrations.today']"))


def _register_now(server: LiveServer, code: str) -> None:
    """A registration made a minute ago (never before today's local midnight) at a demo
    site, stored as a device's upload is."""
    with server.rt.sessions() as session:
        site = session.scalars(select(Site).where(Site.code == code)).one()
        today_start, _ = local_day_bounds(local_today())
        at = max(utcnow() - timedelta(minutes=1), today_start)
        session.add(Registration(
            id=uuid7(), site_id=site.id, lane="1", device_key="browser-test",
            occurred_at=at, received_at=at, clock_skew_s=0, skew_flagged=False,
            future_flagged=False, direction="through", method="qr", person_hash="b" * 64,
            person_masked="", id_last4="", temperature=36.6, companions=0, origin="",
            destination="", decision="allow", reasons=[], decided_by="server"))
        session.commit()


def test_the_district_dashboard_draws_charts_with_tooltips_and_refreshes(
        new_context: Callable[..., Any], live_server: LiveServer,
        shot: Callable[..., Any], clock_stopped: datetime) -> None:
    # clock_stopped: "today" is the server's local day; straddling midnight in China
    # (16:00 UTC) would count the registration below on one day and read the next.
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/dashboard?every=5")
    assert page.locator("h1").inner_text().startswith("指挥大屏")
    assert "南明区" in page.inner_text("#dash-title")
    # ECharts replaced the server-drawn SVG with its canvas in each chart.
    for chart in ("#chart-registrations", "#chart-denials"):
        page.wait_for_selector(f"{chart} canvas", timeout=10_000)
    page.locator("#chart-registrations").scroll_into_view_if_needed()
    box = page.locator("#chart-registrations canvas").first.bounding_box()
    assert box and box["width"] > 200
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=5)
    tip = page.locator("#chart-registrations .dash-tooltip")
    tip.wait_for(state="visible", timeout=5_000)
    assert ":00" in tip.inner_text()  # the hour under the pointer, with its counts
    assert not leaked_words(page.evaluate(VISIBLE_TEXT)), "English on the dashboard"
    shot(page, "dashboard-district", full_page=True)

    before = _today(page)
    _register_now(live_server, "CP-NM-01")
    # Auto-refresh every 5 s (here): the number changes without reloading the page.
    page.wait_for_function(
        "n => Number(document.querySelector(\"[data-figure='registrations.today']\")"
        ".textContent) === n", arg=before + 1, timeout=15_000)
    assert "更新于" in page.inner_text("#dash-updated")

    # A Yunyan registration is not Nanming's: refreshing now leaves the number as it is.
    _register_now(live_server, "CP-YY-01")
    refreshed = int(page.get_attribute("#dashboard", "data-refreshed") or 0)
    page.click("#dash-refresh")
    page.wait_for_function("n => Number(document.querySelector('#dashboard').dataset.refreshed)"
                           " > n", arg=refreshed, timeout=10_000)
    assert _today(page) == before + 1

    # Every number is a link to the list behind it.
    with page.expect_navigation():
        page.click("[data-figure='alerts.total']")
    assert page.url.endswith("/warnings/alerts?status=open")
    assert page.locator("#alert-list").count() == 1


def test_the_city_official_opens_a_district_from_the_city_dashboard(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    page = new_context().new_page()
    login(page, "official_gy")
    page.goto("/dashboard")
    city = _today(page)
    with page.expect_navigation():
        page.click(".dash-areas a:has-text('南明区')")
    assert "area=520102" in page.url
    assert "南明区" in page.inner_text("#dash-title")
    assert _today(page) <= city
    assert not leaked_words(page.evaluate(VISIBLE_TEXT))


def test_without_script_the_numbers_and_a_chart_are_still_there(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    page = new_context(java_script_enabled=False).new_page()
    login(page, "official_nm")
    page.goto("/dashboard")
    assert page.locator("#chart-registrations svg.chart").count() == 1
    assert _today(page) >= 0
    assert page.locator("[data-figure='alerts.total']").get_attribute("href") == (
        "/warnings/alerts?status=open")


def test_a_resident_cannot_open_the_dashboard(new_context: Callable[..., Any],
                                              live_server: LiveServer) -> None:
    page = new_context().new_page()
    login(page, "resident")
    response = page.goto("/dashboard")
    assert response is not None and response.status == 403


def test_a_city_wall_screen_uses_its_width_and_shows_beijing_time_anywhere(
        new_context: Callable[..., Any], live_server: LiveServer,
        shot: Callable[..., Any]) -> None:
    # A 1920-wide command screen whose browser is set to London: the charts sit side by
    # side, the seven tiles in one row, and "updated" stays in Beijing time after refresh.
    page = new_context(viewport={"width": 1920, "height": 1080},
                       timezone_id="Europe/London").new_page()
    login(page, "official_gy")
    page.goto("/dashboard")
    page.wait_for_selector("#chart-denials canvas", timeout=10_000)
    tops = {round(b["y"]) for b in (page.locator(".dash-tile").nth(i).bounding_box() or {}
                                    for i in range(page.locator(".dash-tile").count()))}
    assert len(tops) == 1, tops
    reg = page.locator("#chart-registrations").bounding_box()
    den = page.locator("#chart-denials").bounding_box()
    assert reg and den and abs(reg["y"] - den["y"]) < 40 and den["x"] > reg["x"] + 400
    assert reg["width"] > 700
    # Denials read as people turned away (拒绝通行), not "forbidden" (禁止).
    assert page.inner_text("#reasons th:nth-child(2)") == "拒绝通行"
    refreshed = int(page.get_attribute("#dashboard", "data-refreshed") or 0)
    page.click("#dash-refresh")
    page.wait_for_function("n => Number(document.querySelector('#dashboard').dataset.refreshed)"
                           " > n", arg=refreshed, timeout=10_000)
    stamp = page.inner_text("#dash-updated").split()[-1]
    now = utcnow() + timedelta(hours=8)
    assert int(stamp[:2]) in {now.hour, (now - timedelta(minutes=2)).hour}, stamp
    shot(page, "dashboard-city-wall", full_page=True)


def test_the_red_count_opens_the_people_behind_it(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    # Someone new, red for a reason that arose in Nanming; cleared at the end, as other
    # tests on this server read the status list (a red entry left there would let a
    # device's sync look done before it is).
    key = f"browser-test:{uuid.uuid4().hex}"
    with live_server.rt.sessions() as session:
        someone = new_person(session, live_server.rt)
        flag(session, someone.id, "red", area_code="520102001", key=key)
        session.commit()
        masked = someone.id_masked
    try:
        page = new_context().new_page()
        login(page, "official_nm")
        page.goto("/dashboard")
        red = page.locator("[data-list='status'] li").first.locator("a")
        count = int(red.inner_text())
        assert count >= 1
        with page.expect_navigation():
            red.click()
        assert "/health/flagged?level=red" in page.url
        rows = page.locator("#flagged-list tbody tr[data-person]")
        assert rows.count() == min(count, 50)
        assert masked in page.inner_text("#flagged-list")
        assert not leaked_words(page.evaluate(VISIBLE_TEXT)), "English on the flagged list"
        # The other colour is one click away.
        with page.expect_navigation():
            page.click("#flagged-other")
        assert "level=yellow" in page.url
    finally:
        with live_server.rt.sessions() as session:
            health.clear_flag(session=session, dedupe_key=key, actor=None, reason="test_done")
            session.commit()
