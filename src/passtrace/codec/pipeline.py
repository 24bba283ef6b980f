"""Encode, verify and inspect pass texts: CWT -> COSE_Sign1 -> zlib? -> Base45 -> "PT1:"."""

from __future__ import annotations

import dataclasses
from collections.abc import Container
from typing import Any

from passtrace.codec.claims import CLAIM_PASS, PassClaims, claims_from_cwt, claims_to_cwt
from passtrace.codec.cose import (
    HDR_ALG,
    HDR_KID,
    Sign1,
    encode_sign1,
    loads_strict,
    parse_sign1,
    unprotected_is_empty,
)
from passtrace.codec.errors import PassRejected
from passtrace.codec.keys import ALG_NAMES, SigningKey, TrustedKey, TrustStore
from passtrace.codec.transport import PREFIX, unwrap, wrap

_NO_REVOCATIONS: frozenset[str] = frozenset()
_CWT_NAMES = {1: "iss", 2: "sub", 3: "aud", 4: "exp", 5: "nbf", 6: "iat", 7: "cti"}


def encode_pass(claims: PassClaims, key: SigningKey) -> str:
    """Sign claims into QR text ("PT1:..."); raise ValueError on invalid claims."""
    return wrap(encode_sign1(claims_to_cwt(claims), key), PREFIX)


def verify_sign1(msg: Sign1, trust: TrustStore) -> TrustedKey:
    """Check alg, kid and signature of a parsed COSE_Sign1; return the key that verified it."""
    alg = msg.alg
    if type(alg) is not int or alg not in ALG_NAMES:  # type check first: may be unhashable
        raise PassRejected("unsupported_alg", f"COSE alg {alg!r}")
    kid = msg.kid
    if not isinstance(kid, bytes):
        raise PassRejected("bad_cose", "kid missing or not a byte string")
    entry = trust.entry(kid)
    if entry is None:
        raise PassRejected("unknown_kid", kid.hex())
    # A key verifies only for its own algorithm (no ES256/PS256 confusion).
    if entry.alg_id != alg or not entry.verify(msg.signature, msg.to_be_signed()):
        raise PassRejected("bad_signature", kid.hex())
    return entry


def verify_pass(text: str, trust: TrustStore) -> tuple[PassClaims, TrustedKey]:
    """Verify a pass text's signature and issuer, at no particular time; raise PassRejected.

    Every check that does not depend on the clock: prefix, COSE shape, a trusted key
    of the right algorithm, the signature, the claims, and that the key had not stopped
    signing when the pass was minted. decode_pass adds the time checks; a server judging
    a scan made days ago applies the pass's window at that time itself.
    """
    layers = unwrap(text)
    # Only our own passes are accepted where people are let through: DCC ("HC1:") texts
    # are decoded by the conformance command and inspect_pass, never honoured here.
    if layers.prefix != PREFIX:
        raise PassRejected("bad_prefix", f"expected {PREFIX}, got {layers.prefix}")
    # The format says the unprotected header is empty: anything there is refused before
    # it is decoded (see unprotected_is_empty).
    if not unprotected_is_empty(layers.cose):
        raise PassRejected("bad_cose", "a PT1 pass is tag 18 with an empty unprotected "
                                       "header")
    msg = parse_sign1(layers.cose, require_tag=True)
    if HDR_ALG not in msg.protected or HDR_KID not in msg.protected:
        raise PassRejected("bad_cose", "alg and kid must be in the protected header")
    entry = verify_sign1(msg, trust)
    try:
        cwt = loads_strict(msg.payload)
    except Exception as exc:  # signed but not CBOR: the issuer is broken
        raise PassRejected("bad_claims", f"payload is not CBOR: {exc}") from None
    claims = claims_from_cwt(cwt)
    not_after = entry.not_after
    # A retired key verifies until not_after (its last pass expires), and never for a
    # pass minted after it stopped signing (retired_at): such a pass is the work of a
    # leaked or misused key.
    if not_after is not None and claims.issued_at > not_after:
        raise PassRejected("key_retired", msg.kid.hex())
    if entry.retired_at is not None and claims.issued_at > entry.retired_at:
        raise PassRejected("key_retired", msg.kid.hex())
    return claims, entry


def decode_pass(
    text: str,
    trust: TrustStore,
    *,
    now: int,
    revoked: Container[str] = _NO_REVOCATIONS,
) -> PassClaims:
    """Verify a pass text at time `now` and return its claims; raise PassRejected."""
    claims, entry = verify_pass(text, trust)
    return check_at(claims, entry, now=now, revoked=revoked)


def check_at(
    claims: PassClaims,
    entry: TrustedKey,
    *,
    now: int,
    revoked: Container[str] = _NO_REVOCATIONS,
) -> PassClaims:
    """decode_pass's checks that depend on the clock, on what verify_pass returned.

    For a caller that keeps verify_pass's answer for a pass text (the signature
    does not change) and checks the time on every scan.
    """
    if entry.not_after is not None and now > entry.not_after:
        raise PassRejected("key_retired", entry.kid.hex())
    if claims.pass_id in revoked:
        raise PassRejected("revoked", claims.pass_id)
    if now < claims.valid_from:
        raise PassRejected("not_yet_valid", f"valid from {claims.valid_from}")
    if now > claims.valid_until:
        raise PassRejected("expired", f"valid until {claims.valid_until}")
    return claims


def json_safe(value: Any) -> Any:
    """Turn decoded CBOR into something json.dumps accepts (bytes as hex)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value)  # CBORTag, undefined, ... : show, never crash


def inspect_pass(text: str) -> dict[str, Any]:
    """Decode a pass text WITHOUT verifying it; for support and debugging only."""
    layers = unwrap(text)
    msg = parse_sign1(layers.cose, require_tag=False)
    alg = msg.alg
    kid = msg.kid
    info: dict[str, Any] = {
        "prefix": layers.prefix.rstrip(":"),
        "kid": kid.hex() if isinstance(kid, bytes) else None,
        "alg": ALG_NAMES.get(alg, alg) if isinstance(alg, int) else json_safe(alg),
        "compressed": layers.compressed,
        "cose_tags": list(msg.tags),
        "verified": False,
        "sizes": {
            "text_chars": len(text),
            "base45_chars": layers.base45_chars,
            "transported_bytes": len(layers.transported),
            "cose_bytes": len(layers.cose),
            "payload_bytes": len(msg.payload),
            "signature_bytes": len(msg.signature),
        },
    }
    try:
        cwt = loads_strict(msg.payload)
    except Exception as exc:
        raise PassRejected("bad_claims", f"payload is not CBOR: {exc}") from None
    if isinstance(cwt, dict):
        info["cwt"] = {_CWT_NAMES.get(k, str(k)): json_safe(v) for k, v in cwt.items()}
    else:
        info["cwt"] = json_safe(cwt)
    info["claims"] = None
    if isinstance(cwt, dict) and CLAIM_PASS in cwt:
        try:
            info["claims"] = json_safe(dataclasses.asdict(claims_from_cwt(cwt)))
        except PassRejected as exc:
            info["claims_error"] = exc.reason + (f": {exc.detail}" if exc.detail else "")
    return info
