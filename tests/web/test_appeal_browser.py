"""A resident appeals a revoked pass in a real browser; the revoking official cannot decide it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


def test_a_resident_appeals_a_revocation_and_an_official_sees_it(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    revoked = [p for p in live_server.api_passes("resident3") if p["status"] == "revoked"]
    assert len(revoked) == 1, "the demo revokes one of resident3's passes"
    pid = revoked[0]["id"]
    resident = new_context().new_page()
    login(resident, "resident3")
    resident.goto(f"/passes/{pid}")
    assert resident.inner_text("#revoke-reason-label") == "其他（见文字说明）"
    resident.fill("#appeal-text", "我需要这张通行证去上班，行程并未取消")
    with resident.expect_navigation():
        resident.click("#appeal-submit")
    assert "等待工作人员处理。" in resident.inner_text("#appeal-status")
    assert resident.locator("#appeal-form").count() == 0

    revoker = new_context().new_page()
    login(revoker, "official_nm")
    revoker.goto("/pass-appeals")
    card = revoker.locator(".appeal", has_text="我需要这张通行证去上班")
    assert "该通行证由您吊销" in card.inner_text()
    assert card.locator("form").count() == 0
    city = new_context().new_page()
    login(city, "official_gy")
    city.goto("/pass-appeals")
    card = city.locator(".appeal", has_text="我需要这张通行证去上班")
    assert card.locator("select[name=outcome]").count() == 1
