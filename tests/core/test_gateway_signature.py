"""The signature gateways check: genuine passes; forged, stale, malformed are told apart."""

from __future__ import annotations

import pytest

from passtrace.core.gateway_signature import SignatureRejected, sign, verify

SECRET = "s" * 32
BODY = b'{"phone":"13800000000","text":"hello"}'


def _reason(header: str | None, body: bytes = BODY, **kw: object) -> str:
    with pytest.raises(SignatureRejected) as exc:
        verify(header, body, secret=SECRET, **kw)  # type: ignore[arg-type]
    return exc.value.reason


def test_a_genuine_signature_is_accepted():
    verify(sign(BODY, secret=SECRET), BODY, secret=SECRET)


def test_a_changed_body_or_another_secret_is_forged():
    header = sign(BODY, secret=SECRET)
    assert _reason(header, BODY.replace(b"hello", b"hell0")) == "forged"
    assert _reason(sign(BODY, secret="t" * 32)) == "forged"


def test_a_replayed_old_message_is_stale_and_moving_its_timestamp_forges_it():
    old = sign(BODY, secret=SECRET, timestamp=1_000_000)
    assert _reason(old, now=1_000_000 + 301) == "stale"
    verify(old, BODY, secret=SECRET, now=1_000_000 + 299)
    # Rewriting t= to look fresh breaks the MAC, which covers the timestamp.
    fresh = old.replace("t=1000000", "t=1000300")
    assert _reason(fresh, now=1_000_000 + 301) == "forged"


def test_missing_and_malformed_headers():
    assert _reason(None) == "missing"
    assert _reason("") == "missing"
    assert _reason("v1=abc") == "malformed"
    assert _reason("t=soon,v1=abc") == "malformed"
    assert _reason("t=1,v1=") == "malformed"
