"""The health-status code on a person's phone: signed like a pass, never a pass.

"ST1:" + Base45(zlib?(COSE_Sign1(CWT))). The CWT carries the status in a private claim
of its own (CLAIM_STATUS), and no pass claim; verify_pass refuses the prefix and the
claims, and verify_status refuses a pass, so one can never stand in for the other.
Signed with the pass keys, so a checkpoint verifies it offline with the trust list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cbor2 import dumps

from passtrace.codec.claims import CWT_CTI, CWT_EXP, CWT_IAT, CWT_ISS, MAX_TIME
from passtrace.codec.cose import HDR_ALG, HDR_KID, encode_sign1, loads_strict, parse_sign1
from passtrace.codec.errors import PassRejected
from passtrace.codec.keys import SigningKey, TrustStore
from passtrace.codec.pipeline import verify_sign1
from passtrace.codec.transport import STATUS_PREFIX, unwrap, wrap

CLAIM_STATUS = -65538
LEVEL_CODES = {"green": 1, "yellow": 2, "red": 3}
LEVEL_NAMES = {code: name for name, code in LEVEL_CODES.items()}


@dataclass(frozen=True)
class StatusClaims:
    """What a checkpoint reads from a status code."""

    code_id: bytes  # 16 random bytes (CWT cti)
    level: str  # green | yellow | red
    holder: str  # masked name
    id_last4: str
    updated_at: int  # when the status last changed (epoch seconds)
    issued_at: int
    expires_at: int  # a status code is short-lived: the phone fetches a fresh one
    issuer: str = "PassTrace"
    # The holder's status reference (16 bytes, keyed on the server, says nothing about who
    # they are): the signed status list names it when the holder is not green, so a
    # device shows a status that changed after the code was issued. Empty in old codes.
    ref: bytes = b""
    # Who the holder is, for the server alone (16 bytes, health/offline.holder_ref): the
    # server turns it back into the person with its key, in one step, so each check
    # reaches the holder's access log whatever their level. Empty in older codes;
    # devices ignore it (they match `ref` against the list).
    holder_ref: bytes = b""


def encode_status(claims: StatusClaims, key: SigningKey) -> str:
    """Sign a status code's claims into QR text ("ST1:...")."""
    if (claims.level not in LEVEL_CODES or len(claims.code_id) != 16
            or len(claims.ref) not in (0, 16) or len(claims.holder_ref) not in (0, 16)):
        raise ValueError("level must be green, yellow or red; code_id and refs 16 bytes")
    for t in (claims.updated_at, claims.issued_at, claims.expires_at):
        if type(t) is not int or not 0 <= t <= MAX_TIME:
            raise ValueError("times must be seconds between 1970 and 2100")
    private: dict[str, Any] = {"s": LEVEL_CODES[claims.level], "n": claims.holder,
                               "i": claims.id_last4, "u": claims.updated_at}
    if claims.ref:
        private["r"] = claims.ref
    if claims.holder_ref:
        private["h"] = claims.holder_ref
    cwt = dumps({CWT_ISS: claims.issuer, CWT_EXP: claims.expires_at, CWT_IAT: claims.issued_at,
                 CWT_CTI: claims.code_id, CLAIM_STATUS: private})
    return wrap(encode_sign1(cwt, key), STATUS_PREFIX)


def _claims(cwt: Any) -> StatusClaims:
    if not isinstance(cwt, dict) or not isinstance(cwt.get(CLAIM_STATUS), dict):
        raise PassRejected("bad_claims", "not a status code")
    private = cwt[CLAIM_STATUS]
    level, holder, last4, updated = (private.get("s"), private.get("n"), private.get("i"),
                                     private.get("u"))
    iat, exp, cti, iss = cwt.get(CWT_IAT), cwt.get(CWT_EXP), cwt.get(CWT_CTI), cwt.get(CWT_ISS)
    ref, holder_ref = private.get("r", b""), private.get("h", b"")
    if (not isinstance(ref, bytes) or len(ref) not in (0, 16)
            or not isinstance(holder_ref, bytes) or len(holder_ref) not in (0, 16)
            or level not in LEVEL_NAMES
            or not isinstance(holder, str) or not isinstance(last4, str)
            or not all(type(t) is int for t in (updated, iat, exp))
            or not isinstance(cti, bytes) or not isinstance(iss, str)):
        raise PassRejected("bad_claims", "status claims malformed")
    return StatusClaims(code_id=cti, level=LEVEL_NAMES[level], holder=holder, id_last4=last4,
                        updated_at=int(updated), issued_at=int(iat),  # type: ignore[arg-type]
                        expires_at=int(exp), issuer=iss, ref=ref,  # type: ignore[arg-type]
                        holder_ref=holder_ref)


def verify_status(text: str, trust: TrustStore, *, now: int) -> StatusClaims:
    """Verify a status code at `now`; raise PassRejected (a pass text is refused too)."""
    layers = unwrap(text)
    if layers.prefix != STATUS_PREFIX:
        raise PassRejected("bad_prefix", f"expected {STATUS_PREFIX}, got {layers.prefix}")
    msg = parse_sign1(layers.cose, require_tag=True)
    if HDR_ALG not in msg.protected or HDR_KID not in msg.protected:
        raise PassRejected("bad_cose", "alg and kid must be in the protected header")
    entry = verify_sign1(msg, trust)
    try:
        cwt = loads_strict(msg.payload)
    except Exception as exc:  # noqa: BLE001 - signed but not CBOR
        raise PassRejected("bad_claims", f"payload is not CBOR: {exc}") from None
    claims = _claims(cwt)
    if entry.retired_at is not None and claims.issued_at > entry.retired_at:
        raise PassRejected("key_retired", entry.kid.hex())
    if now > claims.expires_at:
        raise PassRejected("expired", f"valid until {claims.expires_at}")
    return claims
