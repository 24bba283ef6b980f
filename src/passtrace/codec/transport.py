"""The transport around a COSE message: optional zlib, Base45, prefix."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from passtrace.codec.base45 import Base45Error, b45decode, b45encode
from passtrace.codec.errors import PassRejected

PREFIX = "PT1:"
DCC_PREFIX = "HC1:"  # EU Digital COVID Certificate, accepted for decoding only
# A health-status code (codec/status.py): signed like a pass, never accepted as one.
STATUS_PREFIX = "ST1:"
PREFIXES = (PREFIX, DCC_PREFIX, STATUS_PREFIX)
# A pass is a few hundred bytes; the cap stops a zlib bomb from a hostile QR.
MAX_INFLATED = 64 * 1024


def looks_like_zlib(data: bytes) -> bool:
    """Tell a zlib stream (RFC 1950 header) from a COSE message by its first bytes."""
    # CMF: deflate (CM=8) with window <= 32K; header checksum is a multiple of 31.
    # COSE starts with 0xd2 (tag 18), 0xd8 (tag 61) or 0x84: none of these pass.
    return (
        len(data) >= 2
        and (data[0] & 0x0F) == 8
        and (data[0] >> 4) <= 7
        and ((data[0] << 8) | data[1]) % 31 == 0
    )


def inflate(data: bytes, limit: int = MAX_INFLATED) -> bytes:
    """Decompress one complete zlib stream; raise ValueError if broken, too big or trailed."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise ValueError(f"zlib: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"inflates to more than {limit} bytes")
    if not inflater.eof:
        raise ValueError("zlib stream is truncated")
    if inflater.unused_data:
        raise ValueError("bytes after the zlib stream")
    return out


def compress_if_shorter(cose: bytes) -> bytes:
    """Return zlib(cose) when that is shorter, else cose itself."""
    # A ~200-byte signed pass is mostly signature, kid and UUID: zlib adds ~10 bytes.
    packed = zlib.compress(cose, 9)
    return packed if len(packed) < len(cose) else cose


def wrap(cose: bytes, prefix: str = PREFIX) -> str:
    """Turn a COSE message into QR text: zlib if shorter, Base45, prefix."""
    return prefix + b45encode(compress_if_shorter(cose))


@dataclass(slots=True)  # not frozen: frozen __init__ is slow on the hot path
class Unwrapped:
    """The layers of a pass text, outermost first."""

    prefix: str
    base45_chars: int
    compressed: bool
    transported: bytes  # Base45-decoded bytes (zlib stream or COSE)
    cose: bytes


def split_prefix(text: str) -> tuple[str, str]:
    """Split "PT1:..." or "HC1:..." into prefix and Base45 body."""
    head = text[:4]
    if head not in PREFIXES:
        raise PassRejected("bad_prefix", f"expected one of {PREFIXES}, got {head!r}")
    return head, text[4:]


def unwrap(text: str) -> Unwrapped:
    """Undo prefix, Base45 and (if present) zlib; raise PassRejected at the failing layer."""
    if not isinstance(text, str):
        raise PassRejected("bad_prefix", "pass text must be a str")
    prefix, body = split_prefix(text)
    try:
        raw = b45decode(body)
    except Base45Error as exc:
        raise PassRejected("bad_base45", str(exc)) from None
    if looks_like_zlib(raw):
        try:
            cose = inflate(raw)
        except ValueError as exc:
            raise PassRejected("bad_compression", str(exc)) from None
        return Unwrapped(prefix, len(body), True, raw, cose)
    return Unwrapped(prefix, len(body), False, raw, raw)
