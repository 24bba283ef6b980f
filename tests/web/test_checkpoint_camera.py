"""The checkpoint page scans a real pass QR from a (fake) camera and lets the holder through.

Chromium reads the camera from a .y4m file made from the server's own QR image
of an approved demo pass (`--use-file-for-fake-video-capture`); the page
decodes it with the vendored jsQR (headless Linux Chromium has no
BarcodeDetector) and the server decides.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from passtrace.codec.qr import qr_png
from tests.web.checkpoint_helpers import open_checkpoint
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, LiveServer, demo_approved_pass

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480


def write_y4m(png: bytes, path: Path, frames: int = 10) -> None:
    """Centre a QR image on a white 640x480 frame and write it as raw I420 frames."""
    qr = Image.open(io.BytesIO(png)).convert("L")
    side = min(HEIGHT - 40, qr.width * (HEIGHT - 40) // qr.width)
    qr = qr.resize((side, side), Image.NEAREST)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(qr, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    data = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + data)


@pytest.fixture
def camera_page(browser: Any, live_server: LiveServer, tmp_path: Path) -> Iterator[Any]:
    """A page in a Chromium whose camera shows the resident's approved pass."""
    token = demo_approved_pass(live_server)["token"]
    video = tmp_path / "pass.y4m"
    write_y4m(qr_png(token, scale=6), video)
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = chromium.new_context(base_url=live_server.url, locale="zh-CN",
                                       timezone_id="Asia/Shanghai", permissions=["camera"])
        context.set_default_timeout(TIMEOUT_MS)
        context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"),
                      lambda route: route.abort())
        yield context.new_page()
    finally:
        chromium.close()


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
