"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), with hmac and hashlib.

Pure functions: no database, no clock of their own (callers pass the time). The
replay rule (a time step used once is never accepted again for that account) lives
with the stored last step in accounts.second_factor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of now that still match: a phone clock 30 s off, or a code typed
# just as it rolled over, still works; the replay rule makes each step single use.
WINDOW = 1
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends for HMAC-SHA1
_ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def new_secret() -> str:
    """A fresh random shared secret, Base32 without padding (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def secret_bytes(secret_b32: str) -> bytes:
    """Decode a Base32 secret (spaces and case ignored, padding optional)."""
    clean = "".join(secret_b32.split()).upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def grouped(secret_b32: str, size: int = 4) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret_b32[i:i + size] for i in range(0, len(secret_b32), size))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "SHA1") -> str:
    """RFC 4226: HMAC the 8-byte counter, dynamic truncation, the low decimal digits."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), _ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def time_step(unix_seconds: float, step: int = STEP_SECONDS) -> int:
    """RFC 6238's T: whole steps since the Unix epoch (T0 = 0)."""
    return int(unix_seconds // step)


def totp(key: bytes, unix_seconds: float, *, digits: int = DIGITS,
         algorithm: str = "SHA1") -> str:
    """The code for a moment."""
    return hotp(key, time_step(unix_seconds), digits=digits, algorithm=algorithm)


def matching_step(key: bytes, code: str, unix_seconds: float, *,
                  window: int = WINDOW) -> int | None:
    """The time step within the window whose code is `code` (None: no match).

    Every candidate is compared in constant time, so timing tells nothing of which
    step (or digit) was close.
    """
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    now = time_step(unix_seconds)
    found = None
    for step in range(now - window, now + window + 1):
        if hmac.compare_digest(hotp(key, step), code):
            found = step if found is None else found
    return found


def otpauth_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code (Key URI format)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
