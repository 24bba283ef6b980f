"""A resident applies, an official decides, the signed pass verifies."""

from __future__ import annotations

import time

import pytest

from passtrace.codec import PassRejected, decode_pass
from passtrace.passes import keyring
from tests.passes.helpers import apply, apply_body, approve


def test_it_signs_an_approved_pass_that_verifies_offline(client, make_persona, session):
    resident = make_persona("public", name="张三")
    official = make_persona("official", "area", "520102")

    p = apply(client, resident.headers)
    assert p["status"] == "pending"
    assert p["token"] is None
    assert p["holder"]["name"] == "张*"
    assert p["holder"]["id_number"].startswith("520102") and "*" in p["holder"]["id_number"]

    resp = client.post(f"/api/v1/passes/{p['id']}/approve", json={"reason": ""},
                       headers=official.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "approved"
    assert resp.json()["token"] is None  # a bearer credential: the approver never gets it
    token = client.get(f"/api/v1/passes/{p['id']}", headers=resident.headers).json()["token"]
    assert token.startswith("PT1:")

    claims = decode_pass(token, keyring.trust_store(session=session), now=int(time.time()))
    assert claims.pass_id == p["id"]
    assert claims.holder == "张*"
    assert claims.plate == "贵A12345"
    assert claims.areas == ("520102006",)


def test_the_holder_sees_the_token_and_qr(client, make_persona):
    resident = make_persona("public")
    official = make_persona("official", "area", "520100")
    p = apply(client, resident.headers)
    assert client.get(f"/api/v1/passes/{p['id']}/qr.png", headers=resident.headers
                      ).status_code == 404  # not approved yet
    client.post(f"/api/v1/passes/{p['id']}/approve", json={}, headers=official.headers)
    mine = client.get("/api/v1/passes/mine", headers=resident.headers).json()
    assert mine["items"][0]["token"].startswith("PT1:")
    png = client.get(f"/api/v1/passes/{p['id']}/qr.png", headers=resident.headers)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    from passtrace.codec.qr import decode_qr_image

    assert decode_qr_image(png.content) == [mine["items"][0]["token"]]


def test_it_rejects_with_a_reason_the_holder_reads(client, make_persona):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    resp = client.post(f"/api/v1/passes/{p['id']}/reject", json={"reason": "材料不全"},
                       headers=official.headers)
    assert resp.status_code == 200
    seen = client.get(f"/api/v1/passes/{p['id']}", headers=resident.headers).json()
    assert seen["status"] == "rejected" and seen["decision_reason"] == "材料不全"


def test_a_rejection_needs_a_reason_and_changes_nothing(client, make_persona):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    resp = client.post(f"/api/v1/passes/{p['id']}/reject", json={"reason": " "},
                       headers=official.headers)
    assert resp.status_code == 422
    assert resp.json()["error"]["fields"]["reason"]
    assert client.get(f"/api/v1/passes/{p['id']}", headers=resident.headers
                      ).json()["status"] == "pending"


def test_a_decided_pass_cannot_be_decided_again(client, make_persona):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    client.post(f"/api/v1/passes/{p['id']}/approve", json={}, headers=official.headers)
    resp = client.post(f"/api/v1/passes/{p['id']}/reject", json={"reason": "改主意"},
                       headers=official.headers)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "invalid_state"


def test_revocation_reaches_the_incremental_list(client, make_persona, session):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    before = client.get("/api/v1/passes/revocations?since=0").json()["version"]
    p = apply(client, resident.headers)
    approved = approve(client, p["id"], official.headers, resident.headers)
    resp = client.post(f"/api/v1/passes/{p['id']}/revoke",
                       json={"reason_code": "other", "reason": "行程取消了"},
                       headers=official.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"
    rl = client.get(f"/api/v1/passes/revocations?since={before}").json()
    assert [r["pass_id"] for r in rl["revoked"]] == [p["id"]]
    assert rl["version"] > before
    # Nothing new after the latest version.
    assert client.get(f"/api/v1/passes/revocations?since={rl['version']}"
                      ).json()["revoked"] == []
    with pytest.raises(PassRejected) as exc:
        decode_pass(approved["token"], keyring.trust_store(session=session), now=int(time.time()),
                    revoked={p["id"]})
    assert exc.value.reason == "revoked"


def test_the_holder_can_withdraw_but_not_approve_their_own_pass(client, make_persona):
    resident = make_persona("public")
    p = apply(client, resident.headers)
    assert client.post(f"/api/v1/passes/{p['id']}/approve", json={},
                       headers=resident.headers).status_code == 403
    resp = client.post(f"/api/v1/passes/{p['id']}/revoke", json={"reason": "不需要了"},
                       headers=resident.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"


def test_a_retried_application_creates_one_pass(client, make_persona):
    import uuid as _uuid

    resident = make_persona("public")
    colleague = make_persona("public")
    request_id = str(_uuid.uuid4())
    first = apply(client, resident.headers, id=request_id)
    again = apply(client, resident.headers, id=request_id)
    assert first["id"] == again["id"] == request_id
    assert len(client.get("/api/v1/passes/mine", headers=resident.headers).json()["items"]) == 1
    stolen = client.post("/api/v1/passes", json=apply_body(id=request_id),
                         headers=colleague.headers)
    assert stolen.status_code == 409
