"""Every role keeps its bearings: a menu on every page, the 404 included, and no dead ends."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import follow, login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _menu(page: Any) -> list[str]:
    return page.eval_on_selector_all("#site-nav a", "as => as.map(a => a.id)")


def test_a_phone_gets_a_tab_bar_at_the_bottom_on_every_page(new_context: Any):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    login(page, "resident")
    for path in ("/", "/passes/mine", "/me/access-log", "/community"):
        page.goto(path)
        box = page.locator("#site-nav").bounding_box()
        assert box is not None, path
        assert abs(box["y"] + box["height"] - PHONE["height"]) <= 1, (path, box)
        assert box["width"] >= PHONE["width"] - 1
        assert {"nav-home", "nav-passes", "nav-notices"} <= set(_menu(page))
    # The bar does not hide the end of a page: the last element scrolls above it.
    page.goto("/passes/mine")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    last = page.locator("main > *").last.bounding_box()
    nav = page.locator("#site-nav").bounding_box()
    assert last["y"] + last["height"] <= nav["y"] + 1
    tabs = page.locator("#site-nav a")
    for i in range(tabs.count()):
        assert tabs.nth(i).bounding_box()["height"] >= 44


def test_a_desktop_gets_a_menu_under_the_header_marking_where_you_are(new_context: Any):
    page = new_context(viewport=DESKTOP).new_page()
    login(page, "official_nm")
    page.goto("/passes/review")
    header = page.locator("header.top").bounding_box()
    nav = page.locator("#site-nav").bounding_box()
    assert abs(nav["y"] - (header["y"] + header["height"])) <= 1
    assert _menu(page) == ["nav-home", "nav-review", "nav-sites", "nav-communities",
                           "nav-enterprises", "nav-audit", "nav-warnings", "nav-notices"]
    assert page.get_attribute("#nav-review", "aria-current") == "page"
    assert page.locator("#nav-review").inner_text() == "审批"
    page.click("#nav-sites")
    page.wait_for_url("**/sites")
    assert page.get_attribute("#nav-sites", "aria-current") == "page"


def test_a_missing_page_keeps_the_header_the_menu_and_the_favicon(new_context: Any):
    page = new_context(viewport=PHONE).new_page()
    login(page, "checkpoint")
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert page.locator("header.top .brand").is_visible()
    assert page.locator("#site-nav").is_visible()
    assert _menu(page) == ["nav-home", "nav-checkpoint", "nav-sites", "nav-notices"]
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(icon).headers["content-type"].startswith("image/svg")


def test_the_supplies_officer_sees_only_what_works_today(new_context: Any):
    page = new_context().new_page()
    login(page, "supplies")
    assert _menu(page) == ["nav-home", "nav-supplies", "nav-notices"]
    tiles = page.locator("main a.tile").evaluate_all("ts => ts.map(t => t.id)")
    assert sorted(tiles) == ["tile-notices", "tile-supplies", "tile-supplies-allocation",
                             "tile-supplies-requests"]
    follow(page, "#tile-supplies")
    assert page.locator("h1").inner_text() == "物资保障"


def test_depot_staff_see_their_depot_and_not_the_officers_pages(new_context: Any):
    page = new_context().new_page()
    login(page, "depot_cp")
    assert _menu(page) == ["nav-home", "nav-depot", "nav-notices"]
    tiles = page.locator("main a.tile").evaluate_all("ts => ts.map(t => t.id)")
    assert sorted(tiles) == ["tile-depot", "tile-notices"]
    assert page.goto("/supplies/allocation").status == 403


def test_only_staff_on_a_list_get_the_daily_report_tile(new_context: Any):
    staff = new_context().new_page()
    login(staff, "resident")  # on the demo enterprise's staff list
    assert staff.locator("#tile-report").is_visible()
    outsider = new_context().new_page()
    login(outsider, "resident2")
    assert outsider.locator("#tile-report").count() == 0
    assert "邀请链接" in outsider.inner_text("#tile-report-join")


def test_the_gate_home_links_its_visitors_and_parcels(new_context: Any):
    page = new_context().new_page()
    login(page, "gate")
    follow(page, "#tile-gate-parcels")
    assert "/deliveries" in page.url
    assert page.locator("#site-nav").is_visible()
    page.goto("/")
    follow(page, "#tile-gate-visitors")
    assert "/checkpoint?site=GATE-HGY1-N" in page.url
