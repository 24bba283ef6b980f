"""Base45 (RFC 9285): our vectorised codec against the RFC and the base45 package."""

from __future__ import annotations

import base45 as reference
import pytest
from hypothesis import given
from hypothesis import strategies as st

from passtrace.codec.base45 import ALPHABET, Base45Error, b45decode, b45encode

RFC_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
    (b"", ""),
]


@pytest.mark.parametrize(("raw", "text"), RFC_EXAMPLES)
def test_rfc9285_examples(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw
    assert b45decode(text.encode("ascii")) == raw


def test_every_16_bit_value_matches_the_reference() -> None:
    # One call covers every triplet value: this checks the reciprocal-multiply constants.
    data = b"".join(v.to_bytes(2, "big") for v in range(65536))
    text = b45encode(data)
    assert text == reference.b45encode(data).decode("ascii")
    assert b45decode(text) == data


@pytest.mark.parametrize("value", [0, 1, 44, 45, 254, 255])
def test_odd_trailing_byte(value: int) -> None:
    raw = b"\x00\xff" + bytes([value])
    assert b45encode(raw) == reference.b45encode(raw).decode("ascii")
    assert b45decode(b45encode(raw)) == raw


@given(st.binary(max_size=600))
def test_matches_base45_package_on_random_bytes(raw: bytes) -> None:
    text = b45encode(raw)
    assert text == reference.b45encode(raw).decode("ascii")
    assert b45decode(text) == raw
    assert reference.b45decode(text) == raw


@given(st.text(alphabet=ALPHABET, max_size=90))
def test_agrees_with_the_package_on_what_is_valid(text: str) -> None:
    try:
        expected: bytes | None = reference.b45decode(text)
    except ValueError:
        expected = None
    try:
        got: bytes | None = b45decode(text)
    except Base45Error:
        got = None
    assert got == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("GGW", "above 65535"),  # 16 + 16*45 + 32*2025 = 65536
        (":::", "above 65535"),  # largest digits: 91124
        ("BB8GGW", "above 65535"),  # overflow in a later triplet
        ("::", "above 255"),  # trailing pair: 44 + 44*45 = 2024
        ("A", "length"),
        ("BB8A", "length"),
        ("bb8", "character"),  # lower case is not Base45
        ("BB8=", "character"),
        ("BB\n8", "character"),
        ("BB8é", "non-ASCII"),
    ],
)
def test_rejects_invalid_input(text: str, why: str) -> None:
    with pytest.raises(Base45Error, match=why):
        b45decode(text)


def test_base45_error_is_a_value_error() -> None:
    assert issubclass(Base45Error, ValueError)
