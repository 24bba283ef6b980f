"""The whole pass journey in a real browser: apply, approve, show a QR that verifies offline."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest

from passtrace.codec import TrustStore, decode_pass, verify_trust_list
from tests.web.conftest import LiveServer, login, qr_image_state, read_qr

pytestmark = pytest.mark.browser

UUID_PATH = re.compile(r"/passes/([0-9a-f-]{36})$")


def _apply_as_resident(page: Any) -> str:
    page.goto("/passes/apply")
    page.select_option("#purpose", "medical")
    page.select_option("#areas", "520102006")  # 南明区 花果园街道
    page.fill("#plate", "贵A66666")
    page.fill("#reason", "复诊，带病历本")
    with page.expect_navigation() as nav:
        page.click("#apply-form button[type=submit]")
    assert nav.value.status == 200, page.content()
    match = UUID_PATH.search(page.url)
    assert match, f"applying should land on the new pass, got {page.url}"
    return match.group(1)


def _approve_as_official(page: Any, pass_id: str) -> None:
    login(page, "official_nm")
    page.goto("/passes/review")
    page.click(f"tr[data-pass-id='{pass_id}'] a")
    page.wait_for_url(f"**/passes/{pass_id}")
    with page.expect_navigation() as nav:
        page.click("#approve")
    assert nav.value.status == 200
    assert page.get_attribute("[data-status]", "data-status") == "approved"


def _trust_store(page: Any) -> TrustStore:
    """Build what an offline checkpoint trusts from the server's published lists."""
    root = page.request.get("/api/v1/passes/trust-root")
    published = page.request.get("/api/v1/passes/trust-list")
    assert root.ok and published.ok
    root_json, trust_json = root.json(), published.json()
    signed = verify_trust_list(trust_json["signed"],
                               base64.b64decode(root_json["public_key_der_b64"]))
    plain = [(k["kid"], k["alg"], k["public_key_der_b64"]) for k in trust_json["keys"]]
    assert [(k["kid"], k["alg"], k["public_key_der_b64"]) for k in signed["keys"]] == plain
    store = TrustStore()
    for entry in trust_json["keys"]:
        store.add(base64.b64decode(entry["public_key_der_b64"]),
                  kid=bytes.fromhex(entry["kid"]), not_after=entry.get("not_after"))
    return store


def test_it_shows_an_approved_pass_as_a_qr_that_verifies_offline(
    new_context: Any, live_server: LiveServer, shot: Any,
) -> None:
    resident = new_context(device_scale_factor=2).new_page()
    login(resident, "resident")
    pass_id = _apply_as_resident(resident)
    assert resident.get_attribute("[data-status]", "data-status") == "pending"
    assert resident.locator("#pass-qr").count() == 0

    _approve_as_official(new_context().new_page(), pass_id)

    resident.reload()
    assert resident.get_attribute("[data-status]", "data-status") == "approved"
    shot(resident, "pass-detail-approved", full_page=True)
    qr = qr_image_state(resident, "#pass-qr")
    assert qr["loaded"], f"the pass QR image did not load from {qr['src']}"
    texts = read_qr(resident, "#pass-qr")
    assert len(texts) == 1, f"expected one QR in the screenshot, zxing found {texts}"

    claims = decode_pass(texts[0], _trust_store(resident), now=int(time.time()))
    assert claims.pass_id == pass_id
    assert claims.holder == "张*"
    assert claims.purpose == "medical"
    assert claims.areas == ("520102006",)
    assert claims.plate == "贵A66666"
