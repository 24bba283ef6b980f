"""Hostile passes an outside test run found: each is refused cleanly, never a crash."""

from __future__ import annotations

import json

import cbor2
import pytest

from passtrace.codec import PassRejected, SigningKey, TrustStore, decode_pass, encode_pass
from passtrace.codec.cose import sig_structure
from passtrace.codec.keys import P256_ORDER
from passtrace.codec.pipeline import inspect_pass
from passtrace.codec.transport import unwrap, wrap
from tests.codec.conftest import MakeClaims

# 4,425 digits, more than Python turns into text (4,300); all 0xff bytes, so zlib packs it.
HUGE = (1 << 14700) - 1


def _reason(text: str, trust: TrustStore, now: int) -> str:
    with pytest.raises(PassRejected) as info:
        decode_pass(text, trust, now=now)
    return info.value.reason


def _parts(text: str) -> list[object]:
    return list(cbor2.loads(unwrap(text).cose).value)


def _rebuild(parts: list[object], prefix: str = "PT1:") -> str:
    return wrap(cbor2.dumps(cbor2.CBORTag(18, parts)), prefix)


def test_a_huge_integer_alg_is_refused_and_inspect_shows_the_reason(
        es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int) -> None:
    _, unprotected, payload, signature = _parts(encode_pass(make_claims(), es256_key))
    text = _rebuild([cbor2.dumps({1: HUGE, 4: es256_key.kid}), unprotected, payload,
                     signature])
    assert len(text) < 600  # small enough for a QR code: zlib packs the bignum
    assert _reason(text, trust, now) == "bad_cose"  # was ValueError: a 500 at the scan API
    with pytest.raises(PassRejected):
        json.dumps(inspect_pass(text))  # `passtrace codec inspect` crashed on it


def test_a_huge_integer_in_the_claims_is_refused(
        es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int) -> None:
    protected, _, payload, _ = _parts(encode_pass(make_claims(), es256_key))
    claims = cbor2.loads(payload) | {-70000: HUGE}
    body = cbor2.dumps(claims)
    signed = _rebuild([protected, {}, body, es256_key.sign(sig_structure(protected, body))])
    assert _reason(signed, trust, now) == "bad_claims"


@pytest.mark.parametrize("unprotected", [{4: b"12345678"}, {99: "junk"},
                                         {1: cbor2.CBORTag(35, "(a+)+$" * 50)}])
def test_anything_in_the_unprotected_header_of_a_pt1_pass_is_refused(
        es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int,
        unprotected: dict[int, object]) -> None:
    protected, _, payload, signature = _parts(encode_pass(make_claims(), es256_key))
    text = _rebuild([protected, unprotected, payload, signature])
    assert _reason(text, trust, now) == "bad_cose"  # was accepted as a valid pass


def test_a_dcc_text_is_not_honoured_at_a_checkpoint(
        es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int) -> None:
    good = encode_pass(make_claims(), es256_key)
    as_dcc = "HC1:" + good[4:]  # same signed bytes, other prefix
    assert _reason(as_dcc, trust, now) == "bad_prefix"  # was accepted
    assert inspect_pass(as_dcc)["prefix"] == "HC1"  # still readable for support


def test_signatures_are_canonical_so_a_pass_has_one_text(
        es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int) -> None:
    texts = [encode_pass(make_claims(), es256_key) for _ in range(24)]
    for text in texts:
        s = int.from_bytes(_parts(text)[3][32:], "big")  # type: ignore[index]
        assert s <= P256_ORDER // 2  # about half were high before
    # A pass signed before carries the high s, and its twin still names one pass id.
    protected, unprotected, payload, signature = _parts(texts[0])
    r, s = signature[:32], int.from_bytes(signature[32:], "big")  # type: ignore[index]
    twin = _rebuild([protected, unprotected, payload, r + (P256_ORDER - s).to_bytes(32, "big")])
    assert twin != texts[0]
    assert decode_pass(twin, trust, now=now).pass_id == decode_pass(texts[0], trust,
                                                                   now=now).pass_id


@pytest.mark.parametrize("claim", [4, 5, 6])  # exp, nbf, iat
def test_a_signed_pass_with_an_absurd_time_is_refused(
        es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int,
        claim: int) -> None:
    protected, _, payload, _ = _parts(encode_pass(make_claims(), es256_key))
    body = cbor2.dumps(cbor2.loads(payload) | {claim: 2**62})
    signed = _rebuild([protected, {}, body, es256_key.sign(sig_structure(protected, body))])
    assert _reason(signed, trust, now) == "bad_claims"
