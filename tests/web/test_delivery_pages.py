"""Deliveries in a real browser: the guard registers a hand-over (a bad room first), the
resident sees it waiting and marks it collected, and the guard's list shows it collected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.web.conftest import login

pytestmark = pytest.mark.browser

HGY1 = "520102006001"


def test_a_parcel_from_the_gate_to_the_flat(new_context: Callable[..., Any], shot: Any) -> None:
    gate = new_context(viewport={"width": 390, "height": 844}).new_page()  # the guard's phone
    login(gate, "gate")
    gate.goto(f"/communities/{HGY1}/deliveries")
    gate.fill("#building", "3")
    gate.fill("#unit", "2")
    gate.fill("#room", "9999")  # no such flat: said next to the form, nothing stored
    gate.fill("#company", "顺丰速运")
    with gate.expect_navigation():
        gate.click("#delivery-button")
    assert gate.locator("#form-message, .field-error").count() >= 1
    assert gate.input_value("#company") == "顺丰速运"  # what was typed is kept
    gate.fill("#room", "501")
    gate.fill("#note", "浏览器测试包裹")
    with gate.expect_navigation():
        gate.click("#delivery-button")
    assert "顺丰速运" in gate.inner_text("#saved")
    row = gate.locator("#delivery-list tr", has_text="浏览器测试包裹")
    assert row.count() == 1 and "3栋2单元501" in row.inner_text()
    delivery_id = row.get_attribute("data-delivery-id")
    shot(gate, "delivery-gate", full_page=True)

    resident = new_context().new_page()
    login(resident, "resident")
    resident.goto("/community/deliveries")
    card = resident.locator(f"[data-delivery-id='{delivery_id}']")
    assert "浏览器测试包裹" in card.inner_text() and card.locator(".badge.waiting").count() == 1
    with resident.expect_navigation():
        resident.click(f"#collect-{delivery_id}")
    card = resident.locator(f"[data-delivery-id='{delivery_id}']")
    assert card.locator(".badge.collected").count() == 1
    shot(resident, "delivery-resident", full_page=True)

    gate.reload()
    row = gate.locator(f"#delivery-list tr[data-delivery-id='{delivery_id}']")
    assert row.locator(".badge.collected").count() == 1
