"""The daily report form shows only what applies: each state of its places and buttons."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import login

pytestmark = pytest.mark.browser


def _open(new_context: Any) -> Any:
    page = new_context().new_page()
    login(page, "resident")
    page.goto("/reports/today")
    page.wait_for_selector("#add-stop:visible")
    return page


def test_the_first_place_has_no_transport_and_no_remove_button(new_context: Any) -> None:
    page = _open(new_context)
    stops = page.locator("#stops [data-stop]")
    assert stops.count() == 1
    first = stops.nth(0)
    assert first.locator("[data-transport]").is_hidden()  # "交通方式" is for later places
    assert first.locator("[data-remove-stop]").is_hidden()  # "删除此地点" with one place
    page.click("#add-stop")
    second = stops.nth(1)
    assert first.locator("[data-transport]").is_hidden()
    assert second.locator("[data-transport]").is_visible()
    assert first.locator("[data-remove-stop]").is_visible()
    assert second.locator("[data-remove-stop]").is_visible()
    second.locator("[data-remove-stop]").click()
    assert stops.count() == 1
    assert first.locator("[data-remove-stop]").is_hidden()


def test_stayed_home_hides_the_places_and_the_add_button(new_context: Any) -> None:
    page = _open(new_context)
    page.check("#stayed_home")
    assert page.locator("#add-stop").is_hidden()  # "添加地点" goes with "全天居家"
    assert page.locator("#stops").is_hidden()
    page.uncheck("#stayed_home")
    assert page.locator("#add-stop").is_visible()
    assert page.locator("#stops [data-stop]").nth(0).is_visible()
