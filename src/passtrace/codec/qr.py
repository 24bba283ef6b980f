"""QR images of pass texts (segno) and reading them back (zxing-cpp)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import segno
import zxingcpp
from PIL import Image

from passtrace.codec.base45 import ALPHABET

ERROR_LEVEL = "m"
_ALNUM = frozenset(ALPHABET)


def _make(text: str) -> segno.QRCode:
    # Pass texts ("PT1:" + Base45) only use QR's alphanumeric set: 5.5 bits a
    # char instead of 8. Anything else falls back to segno's own choice.
    mode = "alphanumeric" if text and _ALNUM.issuperset(text) else None
    # boost_error=False: the level stays exactly M, as documented and measured.
    return segno.make_qr(text, error=ERROR_LEVEL, mode=mode, boost_error=False)


def qr_version(text: str) -> int:
    """Return the QR version (1-40) the text needs at error correction M."""
    version = _make(text).version
    assert isinstance(version, int)  # never a Micro QR: make_qr forbids it
    return version


def qr_png(text: str, scale: int = 4, border: int = 4) -> bytes:
    """Render the text as a PNG QR code (ECC M); ~20 ms, so callers should cache."""
    out = BytesIO()
    _make(text).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(text: str, scale: int = 4, border: int = 4) -> bytes:
    """Render the text as an SVG QR code (ECC M)."""
    out = BytesIO()
    _make(text).save(out, kind="svg", scale=scale, border=border, xmldecl=False)
    return out.getvalue()


def decode_qr_image(image: bytes | Image.Image) -> list[str]:
    """Return the texts of every QR code found in an image (PNG/JPEG bytes or PIL image)."""
    img: Any = image if isinstance(image, Image.Image) else Image.open(BytesIO(image))
    if img.mode not in ("L", "RGB"):
        # Palette/1-bit/alpha images: flatten onto white so transparency reads as quiet zone.
        if img.mode in ("RGBA", "LA", "P"):
            img = img.convert("RGBA")
            background = Image.new("RGBA", img.size, "white")
            img = Image.alpha_composite(background, img)
        img = img.convert("L")
    # Only QR: the default format list also "found" a phantom UPC-E inside a QR.
    results = zxingcpp.read_barcodes(
        img,
        formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]  # stub wants the set
    )
    return [r.text for r in results if r.valid]
