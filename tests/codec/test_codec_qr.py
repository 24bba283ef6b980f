"""QR images of passes: segno renders, zxing-cpp reads back."""

from __future__ import annotations

from io import BytesIO

from PIL import Image

from passtrace.codec import SigningKey, encode_pass
from passtrace.codec.qr import decode_qr_image, qr_png, qr_svg, qr_version


def test_png_decodes_back_to_the_same_text(es256_key: SigningKey, make_claims) -> None:
    text = encode_pass(make_claims(), es256_key)
    png = qr_png(text)
    assert png.startswith(b"\x89PNG")
    assert decode_qr_image(png) == [text]
    assert decode_qr_image(Image.open(BytesIO(png))) == [text]


def test_typical_pass_fits_version_12_at_m(make_claims) -> None:
    for alg in ("ES256", "EdDSA"):  # both carry 64-byte signatures
        text = encode_pass(make_claims(), SigningKey.generate(alg))
        assert qr_version(text) <= 12, (alg, len(text))


def test_jpeg_and_rgb_images_decode(es256_key: SigningKey, make_claims) -> None:
    text = encode_pass(make_claims(), es256_key)
    image = Image.open(BytesIO(qr_png(text, scale=5))).convert("RGB")
    out = BytesIO()
    image.save(out, format="JPEG", quality=60)
    assert decode_qr_image(out.getvalue()) == [text]


def test_svg_and_non_pass_text() -> None:
    svg = qr_svg("PT1:ABC")
    assert svg.startswith(b"<svg") and b"</svg>" in svg
    assert decode_qr_image(qr_png("lower case falls back to byte mode")) == [
        "lower case falls back to byte mode"
    ]


def test_blank_image_has_no_codes() -> None:
    out = BytesIO()
    Image.new("L", (64, 64), 255).save(out, format="PNG")
    assert decode_qr_image(out.getvalue()) == []
