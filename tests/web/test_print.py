"""The printable paper pass carries the same signed code as the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import LiveServer, demo_approved_pass, login, qr_image_state, read_qr

pytestmark = pytest.mark.browser


def test_it_prints_the_same_code_the_api_returns(new_context: Any, live_server: LiveServer,
                                                 shot: Any) -> None:
    demo_pass = demo_approved_pass(live_server)
    pass_id, token = demo_pass["id"], demo_pass["token"]
    assert token
    page = new_context(device_scale_factor=2).new_page()
    login(page, "resident")

    response = page.goto(f"/passes/{pass_id}/print")
    assert response.status == 200
    shot(page, "print-a4", full_page=True)
    qr = qr_image_state(page, ".sheet img")
    assert qr["loaded"], f"the paper pass QR did not load from {qr['src']}"
    assert read_qr(page, ".sheet img") == [token]
