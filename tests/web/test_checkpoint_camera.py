"""The checkpoint page scans a real pass QR from a (fake) camera and lets the holder through.

Chromium reads the camera from a .y4m file made from the server's own QR image
of an approved demo pass (`--use-file-for-fake-video-capture`); the page
decodes it with the vendored jsQR (headless Linux Chromium has no
BarcodeDetector) and the server decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.checkpoint_helpers import camera_showing, open_checkpoint
from tests.web.conftest import LiveServer, demo_approved_pass

pytestmark = pytest.mark.browser

@pytest.fixture
def camera_page(browser: Any, live_server: LiveServer, tmp_path: Path) -> Iterator[Any]:
    """A page in a Chromium whose camera shows the resident's approved pass."""
    token = demo_approved_pass(live_server)["token"]
    with camera_showing(browser, live_server, token, tmp_path / "pass.y4m") as page:
        yield page


def test_a_pass_shown_to_the_camera_is_allowed(camera_page: Any, shot: Any) -> None:
    page = camera_page
    open_checkpoint(page)
    page.click("#camera-button")
    page.wait_for_selector("#result[data-decision='allow']")
    assert page.get_attribute("#result", "data-source") == "server"
    assert page.inner_text("#verdict") == "放行"
    assert page.inner_text("#result-holder") == "张*"
    assert re.fullmatch(r"[0-9X]{4}", page.inner_text("#result-last4"))
    shot(page, "checkpoint-allow")
    page.click("#camera-stop")
