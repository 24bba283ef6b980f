"""Signed trust lists and incremental revocation lists."""

from __future__ import annotations

import base64
import uuid

import pytest

from passtrace.codec import (
    PassRejected,
    RevocationSet,
    SigningKey,
    TrustStore,
    decode_pass,
    encode_pass,
    sign_revocation_list,
    sign_trust_list,
    verify_revocation_list,
    verify_trust_list,
)


@pytest.fixture(scope="module")
def root() -> SigningKey:
    return SigningKey.generate("ES256")


def _entry(key: SigningKey, not_after: int | None = None,
           retired_at: int | None = None) -> dict[str, object]:
    return {
        "kid": key.kid.hex(),
        "alg": key.alg,
        "public_key_der_b64": base64.b64encode(key.public_der()).decode(),
        "not_after": not_after,
        "retired_at": retired_at,
    }


def test_trust_list_round_trip_feeds_a_trust_store(
    root: SigningKey, es256_key: SigningKey, make_claims, now: int
) -> None:
    eddsa = SigningKey.generate("EdDSA")
    keys = [_entry(es256_key), _entry(eddsa, not_after=now + 99)]
    doc = sign_trust_list(keys, root, version=7, issued_at=now)
    assert doc.isascii() and "=" not in doc  # unpadded base64url
    listed = verify_trust_list(doc, root.public_key())
    assert listed == {"version": 7, "issued_at": now, "keys": keys, "revocation_key": None}
    store = TrustStore.from_trust_list(listed)
    claims = make_claims()
    assert decode_pass(encode_pass(claims, eddsa), store, now=now) == claims
    assert store.entry(eddsa.kid).not_after == now + 99


def test_a_pass_minted_after_its_key_retired_is_refused_offline(
    root: SigningKey, es256_key: SigningKey, make_claims, now: int
) -> None:
    keys = [_entry(es256_key, not_after=now + 86400, retired_at=now - 100)]
    listed = verify_trust_list(sign_trust_list(keys, root, version=8, issued_at=now),
                               root.public_key())
    assert listed["keys"] == keys
    store = TrustStore.from_trust_list(listed)
    before = make_claims(issued_at=now - 200)
    assert decode_pass(encode_pass(before, es256_key), store, now=now) == before
    with pytest.raises(PassRejected) as info:  # was accepted until not_after
        decode_pass(encode_pass(make_claims(issued_at=now - 50), es256_key), store, now=now)
    assert info.value.reason == "key_retired"


def test_trust_list_rejects_tampering_and_other_roots(
    root: SigningKey, es256_key: SigningKey, now: int
) -> None:
    doc = sign_trust_list([_entry(es256_key)], root, version=1, issued_at=now)
    with pytest.raises(PassRejected) as info:
        verify_trust_list(doc, SigningKey.generate().public_key())
    assert info.value.reason == "unknown_kid"
    raw = bytearray(base64.urlsafe_b64decode(doc + "=" * (-len(doc) % 4)))
    raw[-70] ^= 1  # inside the payload
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(PassRejected) as info:
        verify_trust_list(tampered, root.public_key())
    assert info.value.reason == "bad_signature"
    with pytest.raises(PassRejected):
        verify_trust_list("not base64 !!", root.public_key())


def test_lists_cannot_stand_in_for_each_other(root: SigningKey, now: int) -> None:
    revocations = sign_revocation_list([], root, version=1, issued_at=now)
    with pytest.raises(PassRejected) as info:
        verify_trust_list(revocations, root.public_key())
    assert info.value.reason == "bad_claims"


def test_trust_list_refuses_mismatched_alg(
    root: SigningKey, es256_key: SigningKey, now: int
) -> None:
    with pytest.raises(ValueError):
        sign_trust_list([_entry(es256_key) | {"alg": "EdDSA"}], root, version=1, issued_at=now)


def test_incremental_revocation_lists(
    root: SigningKey, es256_key: SigningKey, make_claims, trust: TrustStore, now: int
) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    full = sign_revocation_list(
        [{"pass_id": first, "expires_at": now + 10}], root, version=3, issued_at=now
    )
    delta = sign_revocation_list(
        [{"pass_id": second, "expires_at": now + 500, "version": 4}],
        root,
        version=4,
        since=3,
        issued_at=now + 1,
    )
    revoked = RevocationSet()
    revoked.apply(verify_revocation_list(full, root.public_key()))
    listed = verify_revocation_list(delta, root.public_key())
    assert listed["revoked"] == [{"pass_id": second, "expires_at": now + 500}]
    revoked.apply(listed)
    assert revoked.version == 4 and first in revoked and second in revoked
    assert revoked.prune(now + 11) == 1 and first not in revoked and len(revoked) == 1
    claims = make_claims(pass_id=second)
    with pytest.raises(PassRejected) as info:
        decode_pass(encode_pass(claims, es256_key), trust, now=now, revoked=revoked)
    assert info.value.reason == "revoked"


def test_revocation_set_refuses_a_gap(root: SigningKey, now: int) -> None:
    later = sign_revocation_list([], root, version=9, since=5, issued_at=now)
    with pytest.raises(ValueError, match="after version 5"):
        RevocationSet().apply(verify_revocation_list(later, root.public_key()))


@pytest.mark.parametrize("alg", ["ES384", "ES512"])
def test_a_trust_list_of_p384_and_p521_keys_verifies_their_passes(
    alg: str, make_claims, now: int
) -> None:
    """Real trust lists carry P-384 and P-521 keys: listed, signed (by such a root too),
    verified, and their passes accepted; a key listed under another curve's alg is not."""
    root, key = SigningKey.generate(alg), SigningKey.generate(alg)
    doc = sign_trust_list([_entry(key)], root, version=1, issued_at=now)
    listed = verify_trust_list(doc, root.public_key())
    assert [k["alg"] for k in listed["keys"]] == [alg]
    claims = make_claims()
    store = TrustStore.from_trust_list(listed)
    assert decode_pass(encode_pass(claims, key), store, now=now) == claims
    with pytest.raises(PassRejected):
        verify_trust_list(doc, SigningKey.generate(alg).public_key())
    with pytest.raises(ValueError):
        sign_trust_list([_entry(key) | {"alg": "ES256"}], root, version=1, issued_at=now)
