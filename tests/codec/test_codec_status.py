"""The health-status code and the status list: signed like a pass, never taken for one."""

from __future__ import annotations

import os
import uuid

import pytest

from passtrace.codec import PassRejected, SigningKey, TrustStore, decode_pass, encode_pass
from passtrace.codec.lists import sign_revocation_list, sign_status_list, verify_status_list
from passtrace.codec.status import StatusClaims, encode_status, verify_status

NOW = 1_767_225_600


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate("ES256")


@pytest.fixture(scope="module")
def trust(key: SigningKey) -> TrustStore:
    store = TrustStore()
    store.add(key.public_key())
    return store


def _claims(**kw: object) -> StatusClaims:
    fields: dict[str, object] = {"code_id": os.urandom(16), "level": "red", "holder": "张*",
                                 "id_last4": "123X", "updated_at": NOW - 60,
                                 "issued_at": NOW, "expires_at": NOW + 1800}
    fields.update(kw)
    return StatusClaims(**fields)  # type: ignore[arg-type]


def test_a_status_code_round_trips_and_expires(key, trust) -> None:
    text = encode_status(_claims(), key)
    assert text.startswith("ST1:")
    claims = verify_status(text, trust, now=NOW + 10)
    assert (claims.level, claims.holder, claims.id_last4) == ("red", "张*", "123X")
    with pytest.raises(PassRejected) as exc:
        verify_status(text, trust, now=NOW + 1801)
    assert exc.value.reason == "expired"


def test_a_status_code_is_never_a_pass_and_a_pass_never_a_status_code(key, trust,
                                                                      make_claims) -> None:
    status = encode_status(_claims(level="green"), key)
    with pytest.raises(PassRejected) as exc:
        decode_pass(status, trust, now=NOW)
    assert exc.value.reason == "bad_prefix"
    # even with the pass prefix put on it, the claims are not a pass's
    with pytest.raises(PassRejected) as exc:
        decode_pass("PT1:" + status[4:], trust, now=NOW)
    assert exc.value.reason in ("bad_claims", "bad_cose")
    a_pass = encode_pass(make_claims(), key)
    with pytest.raises(PassRejected) as exc:
        verify_status(a_pass, trust, now=NOW)
    assert exc.value.reason == "bad_prefix"
    with pytest.raises(PassRejected) as exc:
        verify_status("ST1:" + a_pass[4:], trust, now=NOW)
    assert exc.value.reason == "bad_claims"


def test_a_status_code_from_an_unknown_key_is_refused(trust) -> None:
    stranger = SigningKey.generate("ES256")
    with pytest.raises(PassRejected) as exc:
        verify_status(encode_status(_claims(), stranger), trust, now=NOW)
    assert exc.value.reason == "unknown_kid"


def test_the_status_list_round_trips_and_refuses_other_lists_and_keys(key) -> None:
    red, yellow = str(uuid.uuid4()), str(uuid.uuid4())
    doc = sign_status_list([(red, "red"), (yellow, "yellow")], key, version=5, issued_at=NOW)
    listed = verify_status_list(doc, key.public_key())
    assert listed["statuses"] == {red: "red", yellow: "yellow"} and listed["version"] == 5
    with pytest.raises(PassRejected):
        verify_status_list(doc, SigningKey.generate("ES256").public_key())
    revocations = sign_revocation_list([], key, version=1, issued_at=NOW)
    with pytest.raises(PassRejected) as exc:
        verify_status_list(revocations, key.public_key())
    assert exc.value.reason == "bad_claims"
    with pytest.raises(KeyError):
        sign_status_list([(red, "green")], key, version=6, issued_at=NOW)


def test_the_holder_reference_round_trips_and_a_bad_one_is_refused(key, trust) -> None:
    ref, holder = os.urandom(16), os.urandom(16)
    claims = verify_status(encode_status(_claims(ref=ref, holder_ref=holder), key), trust,
                           now=NOW + 10)
    assert (claims.ref, claims.holder_ref) == (ref, holder)
    assert verify_status(encode_status(_claims(), key), trust, now=NOW).holder_ref == b""
    with pytest.raises(ValueError):
        encode_status(_claims(holder_ref=b"short"), key)
