"""Signing what we POST to gateways (webhook, SMS), and the check a gateway runs.

Header: ``X-PassTrace-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the HMAC
is keyed with the gateway signing secret and taken over ``"<t>.<raw body>"``. The
timestamp is inside the MAC, so it cannot be changed to replay an old body, and a
gateway refuses timestamps older than its tolerance (docs/jobs.md).
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-PassTrace-Signature"
DEFAULT_TOLERANCE_S = 300


class SignatureRejected(Exception):
    """A signature a gateway must refuse; `reason` is missing, malformed, stale or forged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def sign(body: bytes, *, secret: str, timestamp: int | None = None) -> str:
    """The header value for `body`, signed now (or at `timestamp`)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={_mac(secret, ts, body)}"


def verify(header: str | None, body: bytes, *, secret: str,
           tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None) -> None:
    """Raise SignatureRejected unless `header` signs `body` with `secret` recently enough.

    The MAC is checked before the age, so "stale" is only said of a genuine message
    (a replay) and "forged" of anything the secret did not produce.
    """
    if not header:
        raise SignatureRejected("missing")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    ts_text, given = parts.get("t", ""), parts.get("v1", "")
    if not ts_text.isdigit() or len(ts_text) > 12 or not given:
        raise SignatureRejected("malformed")
    ts = int(ts_text)
    if not hmac.compare_digest(_mac(secret, ts, body), given):
        raise SignatureRejected("forged")
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        raise SignatureRejected("stale")
