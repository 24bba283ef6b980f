"""COSE_Sign1 (RFC 9052) written and parsed directly with cbor2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from types import MappingProxyType
from typing import Any

from cbor2 import CBORDecoder, CBORTag, dumps

from passtrace.codec.errors import PassRejected
from passtrace.codec.keys import SigningKey

TAG_COSE_SIGN1 = 18
TAG_CWT = 61
HDR_ALG = 1
HDR_KID = 4

_EMPTY: Mapping[Any, Any] = MappingProxyType({})
# The constant head of Sig_structure: array(4), tstr "Signature1".
_SIG1_HEAD = b"\x84\x6aSignature1"


def _bstr_head(n: int) -> bytes:
    """Return the CBOR head of a byte string of length n (major type 2)."""
    if n < 24:
        return bytes((0x40 | n,))
    if n < 0x100:
        return bytes((0x58, n))
    if n < 0x10000:
        return b"\x59" + n.to_bytes(2, "big")
    return b"\x5a" + n.to_bytes(4, "big")


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """Return the bytes a COSE_Sign1 signature covers (RFC 9052 section 4.4)."""
    # Built by hand: it is on every verify, and this is a few concatenations.
    return b"".join(
        (
            _SIG1_HEAD,
            _bstr_head(len(protected)),
            protected,
            _bstr_head(len(external_aad)),
            external_aad,
            _bstr_head(len(payload)),
            payload,
        )
    )


# No value of the format is wider than 64 bits (CBOR's own integers). Bignums (tags 2
# and 3) can be any size: a 4,300-digit alg once made repr() raise ValueError (Python's
# int-to-str limit), a 500 at the scan API and a crash of `passtrace codec inspect`.
MAX_INT_BITS = 64


def _check_ints(obj: Any) -> None:
    """Refuse an integer wider than MAX_INT_BITS anywhere in a decoded item."""
    stack = [obj]
    while stack:
        item = stack.pop()
        cls = item.__class__
        if cls is int:
            if item.bit_length() > MAX_INT_BITS:
                raise ValueError(f"integer wider than {MAX_INT_BITS} bits")
        elif cls is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif cls is list or cls is tuple:
            stack.extend(item)
        elif cls is CBORTag:
            stack.append(item.value)


def loads_strict(data: bytes) -> Any:
    """Decode exactly one CBOR item; trailing bytes and over-wide integers are errors."""
    fp = BytesIO(data)
    obj = CBORDecoder(fp).decode()
    if fp.tell() != len(data):
        raise ValueError("trailing bytes after CBOR item")
    # Only bignum tags (heads 0xc2, 0xc3) make integers wider than 64 bits; most passes
    # hold neither byte, so the walk (~10 µs) runs only for the few that might.
    if b"\xc2" in data or b"\xc3" in data:
        _check_ints(obj)
    return obj


def unprotected_is_empty(data: bytes) -> bool:
    """Tell from the raw bytes whether a tagged COSE_Sign1 has an empty unprotected map.

    Checked before decoding: whatever sits in an unprotected header of a PT1 pass is
    refused, so a costly item there (a regex tag is compiled while decoding: 33-53 ms)
    is never decoded at all.
    """
    if data[:2] != b"\xd2\x84" or len(data) < 4:  # tag 18, array(4)
        return False
    head = data[2]
    if head >> 5 != 2:  # the protected header is a byte string
        return False
    info = head & 0x1F
    if info < 24:
        start, length = 3, info
    elif 24 <= info <= 26:
        size = 1 << (info - 24)
        start, length = 3 + size, int.from_bytes(data[3:3 + size], "big")
    else:
        return False
    after = start + length
    return data[after:after + 1] == b"\xa0"


@lru_cache(maxsize=64)
def _protected_for(alg_id: int, kid: bytes) -> bytes:
    """Encode the protected header {alg, kid}; the same bytes for every pass of a key."""
    return dumps({HDR_ALG: alg_id, HDR_KID: kid})


def encode_sign1(payload: bytes, key: SigningKey) -> bytes:
    """Sign a payload into a tagged COSE_Sign1 with alg and kid protected."""
    protected = _protected_for(key.alg_id, key.kid)
    signature = key.sign(sig_structure(protected, payload))
    return b"".join(
        (
            b"\xd2\x84",  # tag 18, array(4)
            _bstr_head(len(protected)),
            protected,
            b"\xa0",  # empty unprotected map
            _bstr_head(len(payload)),
            payload,
            _bstr_head(len(signature)),
            signature,
        )
    )


@dataclass(slots=True)  # not frozen: frozen __init__ is slow on the hot path
class Sign1:
    """A parsed, not yet verified COSE_Sign1."""

    protected_bstr: bytes
    protected: Mapping[Any, Any]  # read-only, possibly shared
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes
    tags: tuple[int, ...]

    @property
    def alg(self) -> Any:
        """Return the algorithm id: protected wins, the unprotected one is a fallback."""
        # DCC vector CO19 carries alg unprotected. Harmless: every trusted key
        # verifies with exactly one algorithm, so an unsigned alg cannot switch it.
        alg = self.protected.get(HDR_ALG)
        return self.unprotected.get(HDR_ALG) if alg is None else alg

    @property
    def kid(self) -> Any:
        """Return the kid: protected wins, the unprotected one is a fallback."""
        kid = self.protected.get(HDR_KID)
        return self.unprotected.get(HDR_KID) if kid is None else kid

    def to_be_signed(self) -> bytes:
        """Return the Sig_structure the signature must cover."""
        return sig_structure(self.protected_bstr, self.payload)


def parse_sign1(data: bytes, *, require_tag: bool = True) -> Sign1:
    """Parse COSE_Sign1 bytes strictly; raise PassRejected("bad_cose")."""
    try:
        obj = loads_strict(data)
    except Exception as exc:  # cbor2 raises several types on hostile input
        raise PassRejected("bad_cose", f"not CBOR: {exc}") from None
    tags: list[int] = []
    while isinstance(obj, CBORTag):
        tags.append(obj.tag)
        obj = obj.value
    # Allowed: 18(...), 61(18(...)) as in DCC CO28, or untagged when tolerated.
    if tags not in ([TAG_COSE_SIGN1], [TAG_CWT, TAG_COSE_SIGN1]) and (require_tag or tags):
        raise PassRejected("bad_cose", f"unexpected CBOR tags {tags}")
    if not isinstance(obj, list) or len(obj) != 4:
        raise PassRejected("bad_cose", "COSE_Sign1 must be an array of 4")
    protected_bstr, unprotected, payload, signature = obj
    if not (
        isinstance(protected_bstr, bytes)
        and isinstance(unprotected, dict)
        and isinstance(payload, bytes)
        and isinstance(signature, bytes)
    ):
        raise PassRejected("bad_cose", "COSE_Sign1 member of the wrong type")
    return Sign1(
        protected_bstr, _protected_map(protected_bstr), unprotected, payload, signature, tuple(tags)
    )


@lru_cache(maxsize=256)
def _protected_map(protected_bstr: bytes) -> Mapping[Any, Any]:
    """Decode a protected header; cached, as every pass of one key carries the same bytes."""
    if not protected_bstr:
        return _EMPTY  # RFC 9052: a zero-length bstr stands for the empty map
    try:
        protected = loads_strict(protected_bstr)
    except Exception as exc:
        raise PassRejected("bad_cose", f"protected header: {exc}") from None
    if not isinstance(protected, dict):
        raise PassRejected("bad_cose", "protected header is not a map")
    return MappingProxyType(protected)  # read-only: the cache shares it between messages
