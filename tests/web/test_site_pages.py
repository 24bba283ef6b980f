"""An official runs the sites: the day's charts, a new site, an import, staff and a scanner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.web.conftest import LiveServer, follow, login

pytestmark = pytest.mark.browser

CSV = ("编号,名称,类型,区划代码,通道\n"
       "WEB-IMP-1,导入卡口一,卡口,520102006,1\n"
       "WEB-IMP-2,导入卡口二,火星基地,520102006,1\n").encode()


def test_an_official_runs_the_sites_in_a_browser(new_context: Callable[..., Any],
                                                 live_server: LiveServer, tmp_path: Any,
                                                 shot: Any) -> None:
    page = new_context().new_page()
    login(page, "official_nm")

    # The demo checkpoint's day: figures and charts.
    page.goto("/sites")
    follow(page, "a[href='/sites/CP-NM-01']")
    assert int(page.inner_text("#stat-total")) > 0
    assert page.locator("figure.chart svg").count() == 2
    shot(page, "site-day", full_page=True)

    # A new site: a bad area code is named next to its field, nothing is saved.
    page.goto("/sites/new")
    page.fill("input[name=code]", "WEB-T-01")
    page.fill("input[name=name]", "浏览器测试卡口")
    page.select_option("select[name=kind]", "temporary_intersection")
    page.fill("input[name=area_code]", "529999")
    page.fill("input[name=lanes]", "1,2")
    with page.expect_navigation():
        page.click("form[action='/sites/new'] button[type=submit]")
    assert page.locator("[aria-invalid=true][name=area_code]").count() == 1
    page.fill("input[name=area_code]", "520102001")
    with page.expect_navigation():
        page.click("form[action='/sites/new'] button[type=submit]")
    assert page.url.endswith("/sites/WEB-T-01")

    # Put the demo guard on duty there, and enrol a thermal scanner.
    page.fill("#staff input[name=username]", "checkpoint")
    with page.expect_navigation():
        page.click("#staff button[type=submit]:not(.secondary)")
    # Listed by display name, never by login name.
    staff = page.inner_text("#staff li[data-staff]")
    assert "南明区卡口值守" in staff and "checkpoint" not in staff
    page.fill("input[name=name][maxlength='80']", "测温门一")
    with page.expect_navigation():
        page.click("form[action='/sites/WEB-T-01/devices'] button")
    assert page.inner_text("#device-token").startswith("ptd_")

    # An import with a bad row imports nothing until "the valid rows" is ticked.
    sheet = tmp_path / "sites.csv"
    sheet.write_bytes(CSV)
    page.goto("/sites")
    page.set_input_files("input[type=file]", str(sheet))
    with page.expect_navigation():
        page.click("form[action='/sites/import'] button")
    report = page.inner_text("#import-report")
    assert "3" in report and "WEB-IMP-2" in report
    assert page.locator("a[href='/sites/WEB-IMP-1']").count() == 0
    page.set_input_files("input[type=file]", str(sheet))
    page.check("input[name=apply_valid]")
    with page.expect_navigation():
        page.click("form[action='/sites/import'] button")
    assert page.locator("a[href='/sites/WEB-IMP-1']").count() == 1

    # The guard sees the site they now work at, but cannot register sites.
    guard = new_context().new_page()
    login(guard, "checkpoint")
    guard.goto("/sites")
    assert guard.locator("a[href='/sites/WEB-T-01']").count() == 1
    assert guard.locator("a[href='/sites/new']").count() == 0
