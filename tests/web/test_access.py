"""What a resident may not open in the browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


def test_it_forbids_residents_the_approval_queue(page: Any) -> None:
    login(page, "resident")
    response = page.goto("/passes/review")

    assert response.status == 403
    assert page.locator("#error-message").is_visible()
    assert page.locator("tr[data-pass-id]").count() == 0


def test_it_hides_another_residents_pass(page: Any, live_server: LiveServer) -> None:
    others = live_server.api_passes("resident2")
    assert others
    login(page, "resident")
    response = page.goto(f"/passes/{others[0]['id']}")

    assert response.status == 404
    assert page.locator("#error-message").is_visible()
    assert page.locator("[data-status]").count() == 0
    assert "李" not in page.inner_text("main")
