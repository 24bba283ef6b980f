"""A pass text's signature is checked once per trust store; what changes later still decides.

registrations/verified.py keeps verify_pass's answer per text and trust store. A pass
revoked after its text was verified must still be denied at the next scan (online and
in a batch), and a trust store without the pass's key must not inherit the answer
another store gave.
"""

from __future__ import annotations

import time

import pytest

from passtrace.codec import PassClaims, PassRejected, SigningKey, TrustStore, encode_pass
from passtrace.registrations import verified
from tests.registrations.conftest import reg_body
from tests.registrations.test_batch_upload import batch, row


def _register(client, cp, **overrides):
    resp = client.post("/api/v1/registrations", json=reg_body(**overrides),
                       headers=cp.staff.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _revoke(client, cp):
    resp = client.post(f"/api/v1/passes/{cp.pass_['id']}/revoke",
                       json={"reason_code": "other", "reason": "误发的通行证"},
                       headers=cp.official.headers)
    assert resp.status_code == 200, resp.text


def test_a_pass_revoked_after_its_text_was_verified_is_denied_at_the_next_scan(
        client, checkpoint):
    token = checkpoint.pass_["token"]
    assert _register(client, checkpoint, token=token)["decision"] == "allow"
    _revoke(client, checkpoint)
    out = _register(client, checkpoint, token=token, direction="out")
    assert out["decision"] == "deny"
    assert out["reasons"][0]["code"] == "revoked"


def test_a_pass_revoked_between_two_batches_is_denied_in_the_second(client, checkpoint):
    scan = {"pass_id": checkpoint.pass_["id"], "token": checkpoint.pass_["token"],
            "holder": "张*"}
    first = client.post("/api/v1/registrations/batch", json=batch([row(**scan)]),
                        headers=checkpoint.staff.headers).json()["results"][0]
    assert (first["status"], first["decision"]) == ("stored", "allow")
    _revoke(client, checkpoint)
    second = client.post("/api/v1/registrations/batch",
                         json=batch([row(**scan, direction="out")]),
                         headers=checkpoint.staff.headers).json()["results"][0]
    assert (second["status"], second["decision"]) == ("stored", "deny")
    assert second["reasons"][0] == "revoked"


def test_a_trust_store_with_other_keys_does_not_inherit_another_stores_answer():
    key = SigningKey.generate("ES256")
    now = int(time.time())
    text = encode_pass(PassClaims(
        pass_id="0190f5c2-7d1e-7c3a-8b2e-3f4a5b6c7d8e", holder="张*", id_last4="123X",
        purpose="commute", areas=("520102",), valid_from=now - 60,
        valid_until=now + 3600, issued_at=now - 60), key)
    trusting = TrustStore()
    trusting.add(key.public_key())
    assert verified.verify(text, trusting)[0].holder == "张*"
    assert verified.verify(text, trusting)[0].holder == "张*"  # remembered
    assert verified.answers(trusting) == 1
    rebuilt = TrustStore()  # the cache's next store, same keys: the answer is kept
    rebuilt.add(key.public_key())
    assert verified.answers(rebuilt) == 1
    with pytest.raises(PassRejected) as exc:
        verified.verify(text, TrustStore())
    assert exc.value.reason == "unknown_kid"
    impostor = TrustStore()  # the same kid, another key: its own verdict
    impostor.add(SigningKey.generate("ES256").public_key(), kid=key.kid)
    with pytest.raises(PassRejected) as exc:
        verified.verify(text, impostor)
    assert exc.value.reason == "bad_signature"
