"""A repeated train trip is a few taps: recent places as chips, one-tap filing previewed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from passtrace.core import clock
from tests.web.conftest import login

pytestmark = pytest.mark.browser


class Taps:
    """Every click, choice and typed field a person makes on the page, counted."""

    def __init__(self, page: Any) -> None:
        self.page, self.count = page, 0

    def click(self, target: Any) -> None:
        self.count += 1
        (self.page.locator(target) if isinstance(target, str) else target).click()

    def fill(self, target: Any, value: str) -> None:
        self.count += 1
        target.fill(value)

    def choose(self, target: Any, value: str) -> None:
        self.count += 1
        target.select_option(value)


@pytest.fixture
def at_evening() -> Any:
    """Move the server's clock to a day's evening (after the trip's last stop)."""
    def move(day: date) -> None:
        clock.freeze(datetime.combine(day, time(17, 0), clock.LOCAL_TZ))
    yield move
    clock.freeze(None)


def _open(new_context: Any) -> Any:
    page = new_context().new_page()
    login(page, "resident")
    page.goto("/reports/today")
    page.wait_for_selector("#add-stop:visible")
    return page


def _file(page: Any, taps: Taps) -> None:
    with page.expect_navigation() as nav:
        taps.click("#submit-report")
    assert nav.value.status == 200, page.content()


def test_the_same_train_trip_again_is_a_few_taps(new_context, at_evening):  # type: ignore[no-untyped-def]
    # Days of their own, far from the other tests' today.
    first_day = clock.local_today() + timedelta(days=40)
    at_evening(first_day)
    page = _open(new_context)
    first = Taps(page)
    stops = page.locator("#stops [data-stop]")
    first.fill(page.locator("#temperature"), "36.6")
    home = stops.nth(0)
    first.choose(home.locator("[data-field=area]"), "520102006001")
    first.fill(home.locator("[data-field=place]"), "青岩测试家园")
    first.fill(home.locator("[data-field=arrive]"), "00:00")
    first.fill(home.locator("[data-field=depart]"), "07:40")
    first.click("#add-stop")
    trip = stops.nth(1)
    first.choose(trip.locator("[data-field=area]"), "520103003")
    first.fill(trip.locator("[data-field=place]"), "遵义客户站")
    first.fill(trip.locator("[data-field=arrive]"), "09:10")
    first.fill(trip.locator("[data-field=depart]"), "16:30")
    first.choose(trip.locator("[data-field=mode]"), "train")
    first.fill(trip.locator("[data-field=ref]"), "G5678")
    first.fill(trip.locator("[data-field=seat]"), "03车08A")
    _file(page, first)
    assert page.locator("#report-status").is_visible()

    # The next day: the same trip from the recent places.
    at_evening(first_day + timedelta(days=1))
    page = _open(new_context)
    chips = page.locator("#recent-stops [data-recent]")
    assert chips.count() <= 6
    home_chip = chips.filter(has_text="青岩测试家园")
    trip_chip = chips.filter(has_text="遵义客户站")
    assert "G5678" in trip_chip.inner_text() and "03-08A" in trip_chip.inner_text()  # as stored

    # "Same as yesterday" first shows what it would file, and files nothing yet.
    page.click("#same-as-yesterday")
    preview = page.locator("#quick-preview")
    assert preview.is_visible()
    listed = page.locator("#preview-stops li").all_inner_texts()
    assert len(listed) == 2 and "青岩测试家园" in listed[0] and "07:40" in listed[0]
    assert "遵义客户站" in listed[1] and "G5678" in listed[1] and "03-08A" in listed[1]
    assert page.locator("#report-status").count() == 0
    page.click("#quick-cancel")
    assert preview.is_hidden()

    second = Taps(page)
    second.click(home_chip)
    second.click(trip_chip)
    assert stops.count() == 2  # the empty row took the first chip
    assert stops.nth(1).locator("[data-field=ref]").input_value() == "G5678"
    assert stops.nth(1).locator("[data-seat]").is_visible()
    assert page.locator("#temperature").input_value() == "36.6"  # yesterday's
    _file(page, second)
    status = page.locator("#report-status")
    assert "2" in status.inner_text()
    assert second.count <= 6 and second.count * 3 <= first.count, (first.count, second.count)

    # A one-tap filing goes through only once the preview is confirmed.
    at_evening(first_day + timedelta(days=2))
    page = _open(new_context)
    page.click("#stayed-home")
    assert page.locator("#quick-preview [data-preview-kind=stayed_home]").is_visible()
    assert page.locator("#quick-preview [data-preview-temperature]").inner_text() == "36.6"
    assert page.locator("#report-status").count() == 0
    with page.expect_navigation():
        page.click("#quick-confirm")
    assert page.locator("#report-status").is_visible()
