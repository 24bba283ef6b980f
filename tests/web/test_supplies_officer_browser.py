"""The supplies officer's sub-pages in a real browser, on the demo data (both databases).

A city officer walks the requests queue, the allocation preview, stock by item and
depot, days of cover (with its chart) and the expiring lots, on a 390 px phone and on
a desktop, in Chinese (the default) and in English: each page shows the demo's depots,
items and lots, no code or login name, and a bad filter gets a translated error.
An officer of another district sees none of the city's or Nanming's depots.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from passtrace import demo
from passtrace.accounts import service as account_service
from passtrace.core.clock import local_today
from passtrace.core.db import session_scope
from passtrace.core.security import Principal
from passtrace.supplies import requests
from passtrace.supplies.models import Depot, SupplyItem
from tests.web.conftest import LiveServer, login
from tests.web.zh_walk import VISIBLE_TEXT, leaked_words

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CITY = "贵阳市应急物资储备库"
NANMING = "南明区物资储备库"
YUNYAN = "云岩区物资储备库"
CHECKPOINT = "花果园大道卡口物资点"
COMMUNITY = "花果园第一社区物资点"
MASKS = "医用外科口罩"
# The demo's other tests allocate masks and test kits; this suite asks for disinfectant,
# which nothing else touches, so its queue and preview rows are known in any order.
DISINFECTANT = "84消毒液"
SOON_LOT = "JC20251210"  # demo test kits expiring in 12 days
# What a reader must never see: snake_case codes (states, kinds, login names such as
# depot_cp) and the English of a Chinese page.
CODE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _officer(server: LiveServer, area: str) -> tuple[str, Principal]:
    """A new supplies officer over `area`, with no language chosen yet."""
    username = f"officer_{area}_{uuid.uuid4().hex[:6]}"
    for session in session_scope(server.rt.sessions, write=True):
        user = account_service.create(
            session=session,
            rt=server.rt,
            actor=None,
            username=username,
            password=demo.DEMO_PASSWORD,
            display_name="物资保障专员",
        )
        account_service.grant(
            session=session,
            actor=None,
            user=user,
            role="supplies_officer",
            scope_type="area",
            scope_value=area,
        )
        principal = account_service.principal_for(user)
    return username, principal  # after the loop: session_scope commits when it resumes


def _ask_for_disinfectant(server: LiveServer, officer: Principal) -> None:
    """The community depot asks for 50 bottles of disinfectant."""
    for session in session_scope(server.rt.sessions, write=True):
        item = session.scalars(select(SupplyItem).where(SupplyItem.name == DISINFECTANT)).one()
        depot = session.scalars(select(Depot).where(Depot.name == COMMUNITY)).one()
        requests.file_request(
            session=session,
            actor=officer,
            depot_id=depot.id,
            item_id=item.id,
            quantity=50,
            priority="high",
            needed_by=local_today() + timedelta(days=3),
            justification="社区消杀",
        )


def _ids(server: LiveServer, depot: str, item: str) -> tuple[uuid.UUID, uuid.UUID]:
    for session in session_scope(server.rt.sessions):
        return (
            session.scalars(select(Depot.id).where(Depot.name == depot)).one(),
            session.scalars(select(SupplyItem.id).where(SupplyItem.name == item)).one(),
        )
    raise AssertionError("unreachable")


def _readable(page: Any, english: bool) -> str:
    """The page's visible text, after checking a reader sees no code and no stray English."""
    page.wait_for_load_state("load")
    text = page.inner_text("body")  # (VISIBLE_TEXT skips [lang="en"]: a whole English page)
    assert not CODE.findall(text), (page.url, CODE.findall(text))
    heading = page.inner_text("main h1")
    if english:
        assert not CJK.search(heading), heading
    else:
        assert CJK.search(heading), heading
        leaked = leaked_words(page.evaluate(VISIBLE_TEXT))
        assert not leaked, (page.url, leaked)
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), page.url
    return text


def _visit(page: Any, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, (path, response.status)


@pytest.fixture
def city_officer(live_server: LiveServer) -> str:
    username, principal = _officer(live_server, "520100")
    _ask_for_disinfectant(live_server, principal)
    return username


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_an_officer_walks_every_sub_page(
    new_context: Any,
    live_server: LiveServer,
    city_officer: str,
    viewport: dict[str, int],
    locale: str,
) -> None:
    english = locale == "en-US"
    page = new_context(viewport=viewport, locale=locale).new_page()
    login(page, city_officer)
    assert page.get_attribute("html", "lang") == ("en" if english else "zh-CN")

    # The queue: the community's disinfectant request, its priority in words.
    _visit(page, "/supplies/requests")
    _readable(page, english)
    row = page.locator("#request-queue tbody tr", has_text=DISINFECTANT)
    assert row.count() >= 1
    assert COMMUNITY in row.first.inner_text()
    assert ("high" if english else "高") in row.first.inner_text().lower()

    # The preview: the city warehouse's 800 bottles against the 50 asked.
    _visit(page, "/supplies/allocation")
    page.select_option("#warehouse", label=CITY)
    page.select_option("#item", label=DISINFECTANT)
    with page.expect_navigation():
        page.click("#preview-allocation")
    _readable(page, english)
    assert "800" in page.inner_text("#allocation-summary")
    plan = page.locator("#allocation-plan tbody tr", has_text=COMMUNITY)
    assert plan.count() >= 1 and plan.first.locator("td.share").inner_text() == "50"

    # Stock: each depot's masks, with the unit.
    _visit(page, "/supplies/stock")
    text = _readable(page, english)
    masks = page.locator("#stock-table tbody tr", has_text=MASKS).filter(has_text=YUNYAN)
    assert masks.count() == 1 and "只" in masks.inner_text(), text

    # Days of cover: short rows first (the checkpoint's masks among them). A row's depot
    # opens its curve, named after its item and depot. (The shortest row is drawn
    # first; other tests sharing this server may have made a shorter one with no
    # issues yet, which has no curve, so the test opens the demo's own row.)
    _visit(page, "/supplies/cover")
    _readable(page, english)
    first = page.locator("#cover-table tbody tr").first
    assert "short" in (first.get_attribute("class") or "")
    checkpoint_masks = page.locator("#cover-table tbody tr", has_text=CHECKPOINT).filter(
        has_text=MASKS
    )
    assert "short" in (checkpoint_masks.get_attribute("class") or "")
    depot_name, item_name = (
        checkpoint_masks.locator("td").nth(0).inner_text(),
        checkpoint_masks.locator("td").nth(1).inner_text(),
    )
    with page.expect_navigation():
        checkpoint_masks.locator("td").nth(0).locator("a").click()
    page.wait_for_load_state("load")
    title = page.text_content("#cover-chart svg title") or ""
    assert depot_name in title and item_name in title, title
    points = page.get_attribute("#cover-chart svg polyline", "points") or ""
    assert len(points.split()) >= 7  # two weeks of daily issues: a point for most days

    # Expiring lots: the test kits that expire in 12 days, in the city and in Nanming.
    _visit(page, "/supplies/expiring")
    _readable(page, english)
    soon = page.locator("#expiring-table tbody tr", has_text=SOON_LOT)
    assert sorted(soon.all_inner_texts()) and {CITY, NANMING} <= {
        d for d in (CITY, NANMING) for t in soon.all_inner_texts() if d in t
    }


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_bad_filters_get_a_translated_error(
    new_context: Any, live_server: LiveServer, city_officer: str, locale: str
) -> None:
    english = locale == "en-US"
    page = new_context(viewport=PHONE, locale=locale).new_page()
    login(page, city_officer)
    for path in (
        "/supplies/requests?cursor=not-a-cursor",
        "/supplies/stock?cursor=%%%",
        "/supplies/expiring?cursor=abc",
    ):
        _visit(page, path, 422)  # ValidationFailed, as every form of the project
        text = _readable(page, english)
        assert ("The page cursor is not valid." in text) == english, (path, text)
    # A number of days the form cannot take: said so, and the form keeps what was typed.
    for typed in ("abc", "0", "9999"):
        _visit(page, "/supplies/expiring")
        page.fill("#days", typed)
        with page.expect_navigation() as nav:
            page.click("#expiring-filter button[type=submit]")
        assert nav.value.status == 422
        _readable(page, english)
        message = page.inner_text("#form-message")
        assert ("365" in message) and (bool(CJK.search(message)) != english), message
        assert page.input_value("#days") == typed
        assert page.locator("#expiring-table").count() == 0  # no list for a wrong question


def test_an_officer_of_another_district_sees_only_its_depots(
    new_context: Any, live_server: LiveServer
) -> None:
    yunyan, _ = _officer(live_server, "520103")
    page = new_context(viewport=DESKTOP).new_page()
    login(page, yunyan)
    others = (CITY, NANMING, CHECKPOINT, COMMUNITY)
    for path in (
        "/supplies/requests",
        "/supplies/allocation",
        "/supplies/stock",
        "/supplies/cover",
        "/supplies/expiring?days=365",
    ):
        _visit(page, path)
        text = _readable(page, english=False)
        assert not [name for name in others if name in text], path
    _visit(page, "/supplies/stock")
    assert YUNYAN in page.inner_text("#stock-table")
    # Another district's ids typed into the address bar show nothing of it.
    nm, masks = _ids(live_server, NANMING, MASKS)
    cp, _ = _ids(live_server, CHECKPOINT, MASKS)
    for path in (
        f"/supplies/allocation?warehouse={nm}&item={masks}",
        f"/supplies/cover?depot={cp}&item={masks}",
        f"/supplies/requests?depot={cp}",
    ):
        page.goto(path)
        text = str(page.evaluate(VISIBLE_TEXT))
        assert not [name for name in others if name in text], path
