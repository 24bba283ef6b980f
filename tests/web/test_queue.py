"""The approver approves straight from the queue, without leaving it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


def test_it_approves_a_pending_pass_inline(new_context: Callable[..., Any],
                                           live_server: LiveServer) -> None:
    resident = new_context().new_page()
    login(resident, "resident")
    resident.goto("/passes/apply")
    resident.select_option("#purpose", "supply")
    resident.select_option("#areas", ["520102005"])
    resident.fill("#reason", "送菜到兴关路")
    with resident.expect_navigation():
        resident.click("#apply-form button[type=submit]")
    pass_id = resident.url.rsplit("/", 1)[-1]

    official = new_context().new_page()
    login(official, "official_nm")
    official.goto("/passes/review")
    row = official.locator(f"tr[data-pass-id='{pass_id}']")
    assert "送菜到兴关路" in row.inner_text()
    row.locator("form.inline-decide button").click()
    official.wait_for_selector(f"tr[data-pass-id='{pass_id}'] [data-status='approved']")
    assert official.url.endswith("/passes/review")  # still on the queue
    assert official.locator(f"tr[data-pass-id='{pass_id}'] form.inline-decide").count() == 0
    assert live_server.api_passes("resident")[0]["status"] == "approved"
