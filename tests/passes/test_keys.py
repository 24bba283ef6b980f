"""Key rotation, the signed trust list and the signed revocation list."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key

from passtrace.codec import (
    PassRejected,
    TrustStore,
    decode_pass,
    verify_revocation_list,
    verify_trust_list,
)
from passtrace.passes import keyring
from tests.passes.helpers import apply, approve


def checkpoint_trust(client) -> TrustStore:  # type: ignore[no-untyped-def]
    """Build what an offline checkpoint trusts: the signed list, checked with the pinned root."""
    root = client.get("/api/v1/passes/trust-root").json()
    root_key = load_der_public_key(base64.b64decode(root["public_key_der_b64"]))
    listing = verify_trust_list(client.get("/api/v1/passes/trust-list").json()["signed"],
                                root_key)
    store = TrustStore()
    for k in listing["keys"]:
        store.add(load_der_public_key(base64.b64decode(k["public_key_der_b64"])),
                  kid=bytes.fromhex(k["kid"]), not_after=k["not_after"])
    return store


def approved_token(client, make_persona) -> str:  # type: ignore[no-untyped-def]
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    return str(approve(client, p["id"], official.headers, resident.headers)["token"])


def test_passes_signed_before_a_rotation_still_verify(client, make_persona, session, rt):
    old = approved_token(client, make_persona)
    keyring.rotate(session=session, vault=rt.vault, actor=None, alg="ES256", retire_old=True)
    session.commit()
    new = approved_token(client, make_persona)
    trust = checkpoint_trust(client)
    now = int(time.time())
    assert decode_pass(old, trust, now=now).pass_id != decode_pass(new, trust, now=now).pass_id
    kids = {k.kid for k in keyring.verifying_keys(session=session)}
    assert len(kids) == 2


def test_eddsa_and_ps256_keys_sign_verifiable_passes(client, make_persona, session, rt):
    for alg in ("EdDSA", "PS256"):
        keyring.rotate(session=session, vault=rt.vault, actor=None, alg=alg)
        session.commit()
        token = approved_token(client, make_persona)
        assert decode_pass(token, checkpoint_trust(client), now=int(time.time()))


def test_a_pass_from_another_deployment_is_unknown(client, make_persona):
    token = approved_token(client, make_persona)
    with pytest.raises(PassRejected) as exc:
        decode_pass(token, TrustStore(), now=int(time.time()))
    assert exc.value.reason == "unknown_kid"


def test_the_signed_revocation_list_matches_the_plain_one(client, make_persona):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    client.post(f"/api/v1/passes/{p['id']}/approve", json={}, headers=official.headers)
    client.post(f"/api/v1/passes/{p['id']}/revoke",
                json={"reason_code": "other", "reason": "作废此通行证"},
                headers=official.headers)
    root = client.get("/api/v1/passes/trust-root").json()
    root_key = load_der_public_key(base64.b64decode(root["public_key_der_b64"]))
    # The root-signed trust list names the key revocation lists are signed with.
    rl_key = verify_trust_list(client.get("/api/v1/passes/trust-list").json()["signed"],
                               root_key)["revocation_key"]
    listing = client.get("/api/v1/passes/revocations?since=0").json()
    signed = verify_revocation_list(
        listing["signed"], load_der_public_key(base64.b64decode(rl_key["public_key_der_b64"])))
    assert signed["version"] == listing["version"]
    assert p["id"] in {str(r["pass_id"]) for r in signed["revoked"]}
