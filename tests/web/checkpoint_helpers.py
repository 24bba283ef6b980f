"""Shared steps of the checkpoint browser tests."""

from __future__ import annotations

from typing import Any

from cbor2 import CBORTag, dumps, loads

from passtrace.codec import b45decode, b45encode
from tests.web.conftest import login

SITE = "CP-NM-01"
CHECKPOINT_URL = f"/checkpoint?site={SITE}&lane=1"


def open_checkpoint(page: Any) -> None:
    """Log in as the demo checkpoint staff and open lane 1 with the trust list loaded."""
    login(page, "checkpoint")
    page.goto(CHECKPOINT_URL)
    page.wait_for_selector("body[data-checkpoint-ready='true']")
    page.wait_for_selector("#trust-warning", state="hidden")


def forge(token: str, holder: str = "王*") -> str:
    """Change the holder in a real pass and keep its signature: a forgery."""
    assert token.startswith("PT1:")
    raw = b45decode(token[4:])
    assert raw[0] == 0xD2, "the demo pass is not compressed"
    tag = loads(raw)
    protected, unprotected, payload, signature = tag.value
    claims = loads(payload)
    claims[-65537]["n"] = holder
    forged = dumps(CBORTag(18, [protected, unprotected, dumps(claims), signature]))
    return "PT1:" + b45encode(forged)
