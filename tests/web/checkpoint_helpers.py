"""Shared steps of the checkpoint browser tests."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cbor2 import CBORTag, dumps, loads
from PIL import Image

from passtrace.codec import b45decode, b45encode
from passtrace.codec.qr import qr_png
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, LiveServer, login

SITE = "CP-NM-01"
CHECKPOINT_URL = f"/checkpoint?site={SITE}&lane=1"


def open_checkpoint(page: Any) -> None:
    """Log in as the demo checkpoint staff and open lane 1 with the trust list loaded."""
    login(page, "checkpoint")
    page.goto(CHECKPOINT_URL)
    page.wait_for_selector("body[data-checkpoint-ready='true']")
    page.wait_for_selector("#trust-warning", state="hidden")


def forge(token: str, holder: str = "王*") -> str:
    """Change the holder in a real pass and keep its signature: a forgery."""
    assert token.startswith("PT1:")
    raw = b45decode(token[4:])
    assert raw[0] == 0xD2, "the demo pass is not compressed"
    tag = loads(raw)
    protected, unprotected, payload, signature = tag.value
    claims = loads(payload)
    claims[-65537]["n"] = holder
    forged = dumps(CBORTag(18, [protected, unprotected, dumps(claims), signature]))
    return "PT1:" + b45encode(forged)


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


@contextmanager
def camera_showing(browser: Any, server: LiveServer, token: str, video: Path) -> Iterator[Any]:
    """A page in a second Chromium whose (fake) camera shows the QR code of `token`."""
    write_y4m(qr_png(token, scale=6), video)
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = chromium.new_context(base_url=server.url, locale="zh-CN",
                                       timezone_id="Asia/Shanghai", permissions=["camera"])
        context.set_default_timeout(TIMEOUT_MS)
        context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"),
                      lambda route: route.abort())
        yield context.new_page()
    finally:
        chromium.close()
