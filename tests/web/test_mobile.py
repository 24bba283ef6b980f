"""The pass as a resident shows it on a phone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import LiveServer, demo_approved_pass, login, qr_image_state

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}


def test_it_fits_a_phone_with_a_big_qr(new_context: Any, live_server: LiveServer,
                                       shot: Any) -> None:
    demo_pass = demo_approved_pass(live_server)
    page = new_context(**PHONE).new_page()
    login(page, "resident")

    page.goto(f"/passes/{demo_pass['id']}")
    shot(page, "mobile-pass-detail", full_page=True)
    widths = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], widths
    qr = qr_image_state(page, "#pass-qr")
    assert qr["loaded"], f"the pass QR image did not load from {qr['src']}"
    assert qr["width"] >= 250, qr
