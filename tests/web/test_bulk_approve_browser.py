"""An official on a phone finds three passes, selects them all and approves them at once."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def _apply(live_server: LiveServer, plate: str) -> str:
    token = live_server.api_token("resident")
    start = datetime.now(UTC) - timedelta(hours=1)
    resp = httpx.post(f"{live_server.url}/api/v1/passes", timeout=10,
                      headers={"Authorization": f"Bearer {token}"},
                      json={"purpose": "supply", "reason": "批量测试", "plate": plate,
                            "valid_from": start.isoformat(),
                            "valid_until": (start + timedelta(days=2)).isoformat(),
                            "areas": ["520102005"], "companions": 0})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_it_bulk_approves_the_selected_passes_on_a_phone(new_context: Callable[..., Any],
                                                         live_server: LiveServer) -> None:
    prefix = f"贵Q{random.randrange(10_000):04d}"
    ids = [_apply(live_server, f"{prefix}{i}") for i in range(3)]
    official = new_context(**PHONE).new_page()
    login(official, "official_nm")
    official.goto("/passes/review")
    official.fill("#q", prefix)
    with official.expect_navigation():
        official.click("#pass-filter button[type=submit]")
    rows = official.locator("tbody tr[data-pass-id]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.passId)")) == sorted(ids)
    # Compact rows: no sideways scrolling, each row a few lines, the button on one line.
    assert official.evaluate("document.documentElement.scrollWidth") <= 390
    official.screenshot(path=f"/tmp/passtrace-shots/bulk-{live_server.backend}.png",
                        full_page=True)  # reference kept as tests/web/screens/passes-queue-390.png
    assert rows.first.bounding_box()["height"] < 110
    button = official.locator("#bulk-approve")
    assert button.bounding_box()["height"] < 60  # one line: "批准所选" does not wrap
    official.check("input[data-select-all]")
    assert official.locator("input[name=pass_ids]:checked").count() == 3
    official.fill("#bulk-reason", "物资配送，统一批准")
    with official.expect_navigation():
        button.click()
    result = official.locator("#bulk-result")
    assert "3" in result.inner_text()
    statuses = {p["id"]: p["status"] for p in live_server.api_passes("resident")}
    assert all(statuses[i] == "approved" for i in ids)
    detail = new_context(**PHONE).new_page()
    login(detail, "official_nm")
    detail.goto(f"/passes/{ids[0]}")
    assert "物资配送，统一批准" in detail.content()
