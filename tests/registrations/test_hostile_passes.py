"""Validly signed or hostile passes at the scan API: a denial with its reason, never a 500."""

from __future__ import annotations

import cbor2

from passtrace.codec import encode_pass
from passtrace.codec.claims import PassClaims
from passtrace.codec.cose import sig_structure
from passtrace.codec.transport import unwrap, wrap
from passtrace.passes import keyring
from tests.registrations.conftest import reg_body


def _scan(client, checkpoint, token: str):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/registrations", json=reg_body(token=token),
                       headers=checkpoint.staff.headers)
    assert resp.status_code == 200, resp.text  # was 500 for each of these
    return resp.json()


def _resigned(session, rt, claims_change=None, protected=None) -> str:  # type: ignore[no-untyped-def]
    key = keyring.current_signer(session=session, vault=rt.vault)
    good = encode_pass(PassClaims(pass_id="0190f1b2-7c3d-7000-8000-000000000001", holder="张*",
                                  id_last4="1234", purpose="commute", valid_from=0,
                                  valid_until=4_000_000_000, issued_at=1_700_000_000,
                                  issuer="test"), key)
    prot, _, payload, _ = cbor2.loads(unwrap(good).cose).value
    prot = cbor2.dumps(protected) if protected is not None else prot
    if claims_change:
        payload = cbor2.dumps(cbor2.loads(payload) | claims_change)
    signature = key.sign(sig_structure(prot, payload))
    return wrap(cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, signature])))


def test_a_signed_pass_with_a_huge_expiry_is_denied(client, checkpoint, session, rt):
    out = _scan(client, checkpoint, _resigned(session, rt, claims_change={4: 2**62}))
    assert out["decision"] == "deny"


def test_a_pass_with_a_huge_integer_alg_is_denied(client, checkpoint, session, rt):
    kid = keyring.current_signer(session=session, vault=rt.vault).kid
    out = _scan(client, checkpoint, _resigned(session, rt,
                                              protected={1: (1 << 14700) - 1, 4: kid}))
    assert out["decision"] == "deny"


def test_online_a_validly_signed_pass_the_server_never_issued_is_denied(client, checkpoint,
                                                                        session, rt):
    import time
    import uuid

    key = keyring.current_signer(session=session, vault=rt.vault)
    now = int(time.time())
    forged = encode_pass(PassClaims(pass_id=str(uuid.uuid4()), holder="李*", id_last4="0000",
                                    purpose="commute", valid_from=now - 60,
                                    valid_until=now + 86400, issued_at=now - 10,
                                    issuer="thief"), key)
    resp = client.post("/api/v1/registrations", json=reg_body(token=forged),
                       headers=checkpoint.staff.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["decision"] == "deny"  # was allowed
    assert "not_a_pass" in [r["code"] for r in resp.json()["reasons"]]
