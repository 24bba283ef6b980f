"""Base45 (RFC 9285), vectorised with big-integer arithmetic.

A pure-Python loop over ~150 triplets costs tens of microseconds, the largest
cost of a pass after its signature. Instead each triplet (or byte pair) gets a
fixed-width slot inside one big integer, so that a few multiplications,
masks and extended-slice copies - all running in C - process every slot at
once. Slots are wide enough that no slot ever carries into its neighbour.
"""

from __future__ import annotations

from functools import lru_cache

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

_INVALID = 0xFF
# chr -> digit value; every other byte maps to 0xFF so one search finds them all.
_DECODE_TABLE = bytes(
    ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256)
)
# digit value -> chr (only 0..44 ever occur).
_ENCODE_TABLE = ALPHABET.encode("ascii") + bytes(256 - 45)

# Reciprocal multipliers: floor(v * M >> K) == v // D for every v the slot holds,
# checked exhaustively in tests/codec/test_base45.py.
_DIV2025_M, _DIV2025_SHIFT = 2120972, 32  # v < 65536
_DIV45_M, _DIV45_SHIFT = 1457, 16  # r < 2025


class Base45Error(ValueError):
    """Raised for text that is not valid Base45."""


@lru_cache(maxsize=64)
def _mask(slots: int, width: int) -> int:
    """Return an int with 0xFF in the low byte of each of `slots` slots."""
    return int.from_bytes((b"\xff" + bytes(width - 1)) * slots, "little")


def b45encode(data: bytes) -> str:
    """Encode bytes as Base45 text."""
    pairs, odd = divmod(len(data), 2)
    out = bytearray(pairs * 3 + (2 if odd else 0))
    if pairs:
        # 6-byte slots: v * 2120972 < 2**38 fits without spilling over.
        slots = bytearray(pairs * 6)
        slots[1::6] = data[0 : pairs * 2 : 2]  # high byte (little-endian slot)
        slots[0::6] = data[1 : pairs * 2 : 2]  # low byte
        v = int.from_bytes(slots, "little")
        mask = _mask(pairs, 6)
        e = ((v * _DIV2025_M) >> _DIV2025_SHIFT) & mask
        r = v - 2025 * e  # per slot 0..2024, never negative, so no borrows
        d = ((r * _DIV45_M) >> _DIV45_SHIFT) & mask
        c = r - 45 * d
        size = pairs * 6
        out[0 : pairs * 3 : 3] = c.to_bytes(size, "little")[0::6]
        out[1 : pairs * 3 : 3] = d.to_bytes(size, "little")[0::6]
        out[2 : pairs * 3 : 3] = e.to_bytes(size, "little")[0::6]
    if odd:
        out[-2], out[-1] = data[-1] % 45, data[-1] // 45
    return out.translate(_ENCODE_TABLE).decode("ascii")


def b45decode(text: str | bytes) -> bytes:
    """Decode Base45 text, rejecting bad characters, lengths and values."""
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            raise Base45Error("non-ASCII character") from None
    else:
        raw = bytes(text)
    digits = raw.translate(_DECODE_TABLE)
    if _INVALID in digits:
        raise Base45Error("invalid Base45 character")
    triplets, rest = divmod(len(digits), 3)
    if rest == 1:
        raise Base45Error("invalid Base45 length")
    out = bytearray(triplets * 2 + (1 if rest else 0))
    if triplets:
        size = triplets * 3
        # 3-byte slots already hold [c, d, e]; masks pull the digits apart.
        x = int.from_bytes(digits[:size], "little")
        mask = _mask(triplets, 3)
        v = (x & mask) + 45 * ((x >> 8) & mask) + 2025 * ((x >> 16) & mask)
        slots = v.to_bytes(size, "little")
        if slots[2::3].count(0) != triplets:
            raise Base45Error("Base45 triplet value above 65535")
        out[0 : triplets * 2 : 2] = slots[1::3]
        out[1 : triplets * 2 : 2] = slots[0::3]
    if rest:
        value = digits[-2] + 45 * digits[-1]
        if value > 255:
            raise Base45Error("Base45 pair value above 255")
        out[-1] = value
    return bytes(out)
