"""Signing and verifying passes: round trips and one reason code per failure."""

from __future__ import annotations

import contextlib
import json
import uuid
import zlib
from collections.abc import Callable

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passtrace.codec import (
    PURPOSES,
    PassClaims,
    PassRejected,
    SigningKey,
    TrustStore,
    b45decode,
    b45encode,
    decode_pass,
    encode_pass,
    inspect_pass,
    kid_for,
)
from passtrace.codec.claims import MAX_TIME
from passtrace.codec.cose import sig_structure
from passtrace.codec.transport import unwrap, wrap

MakeClaims = Callable[..., PassClaims]


def _reason(text: str, trust: TrustStore, now: int, **kw: object) -> str:
    with pytest.raises(PassRejected) as info:
        decode_pass(text, trust, now=now, **kw)  # type: ignore[arg-type]
    return info.value.reason


def test_round_trip(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    claims = make_claims()
    text = encode_pass(claims, es256_key)
    assert text.startswith("PT1:")
    assert decode_pass(text, trust, now=now) == claims


def test_pass_claims_accept_lists_and_stay_hashable(make_claims: MakeClaims) -> None:
    claims = make_claims(areas=["110105"], sites=["s1"])
    assert claims.areas == ("110105",) and claims.sites == ("s1",)
    hash(claims)
    with pytest.raises(ValueError, match="not a str"):
        make_claims(areas="110105")


texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
claims_strategy = st.builds(
    PassClaims,
    pass_id=st.uuids().map(str),
    holder=texts,
    id_last4=st.text(alphabet="0123456789X", min_size=4, max_size=4),
    purpose=st.sampled_from(PURPOSES),
    valid_from=st.integers(0, MAX_TIME),
    valid_until=st.integers(0, MAX_TIME),
    issued_at=st.integers(0, MAX_TIME),
    issuer=texts,
    areas=st.lists(st.text(alphabet="0123456789", min_size=2, max_size=12), max_size=4).map(tuple),
    sites=st.lists(texts, max_size=3).map(tuple),
    plate=st.none() | texts,
    companions=st.integers(0, 2**31),
)


@given(claims=claims_strategy)
def test_random_claims_round_trip(
    claims: PassClaims, es256_key: SigningKey, trust: TrustStore
) -> None:
    text = encode_pass(claims, es256_key)
    # Pick a "now" inside the window when there is one; reason codes are tested elsewhere.
    if claims.valid_from <= claims.valid_until:
        assert decode_pass(text, trust, now=claims.valid_from) == claims
    assert inspect_pass(text)["claims"]["pass_id"] == claims.pass_id


def _mutations(cose: bytes) -> list[bytes]:
    out = []
    for i in range(len(cose)):
        for mask in (0x01, 0x80, 0xFF):
            changed = bytearray(cose)
            changed[i] ^= mask
            out.append(bytes(changed))
    return out


def test_every_position_changed_is_rejected(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    cose = unwrap(encode_pass(make_claims(), es256_key)).cose
    for changed in _mutations(cose):
        with pytest.raises(PassRejected):
            decode_pass(wrap(changed), trust, now=now)


@settings(max_examples=300)
@given(data=st.data())
def test_any_single_changed_byte_is_rejected(
    data: st.DataObject, es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    cose = bytearray(unwrap(encode_pass(make_claims(), es256_key)).cose)
    index = data.draw(st.integers(0, len(cose) - 1))
    cose[index] = data.draw(st.integers(0, 255).filter(lambda b: b != cose[index]))
    with pytest.raises(PassRejected):
        decode_pass(wrap(bytes(cose)), trust, now=now)


def test_unknown_kid(
    other_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    assert _reason(encode_pass(make_claims(), other_key), trust, now) == "unknown_kid"


def test_wrong_key_under_a_trusted_kid(
    es256_key: SigningKey, other_key: SigningKey, make_claims: MakeClaims, now: int
) -> None:
    impostor = TrustStore()
    impostor.add(other_key.public_key(), kid=es256_key.kid)
    text = encode_pass(make_claims(), es256_key)
    assert _reason(text, impostor, now) == "bad_signature"


def test_expired_and_not_yet_valid(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims
) -> None:
    claims = make_claims()
    text = encode_pass(claims, es256_key)
    assert decode_pass(text, trust, now=claims.valid_until) == claims  # exp is inclusive
    assert decode_pass(text, trust, now=claims.valid_from) == claims
    assert _reason(text, trust, claims.valid_until + 1) == "expired"
    assert _reason(text, trust, claims.valid_from - 1) == "not_yet_valid"


def test_revoked(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    claims = make_claims()
    text = encode_pass(claims, es256_key)
    assert _reason(text, trust, now, revoked={claims.pass_id}) == "revoked"
    assert decode_pass(text, trust, now=now, revoked={str(uuid.uuid4())}) == claims


def test_retired_key(es256_key: SigningKey, make_claims: MakeClaims, now: int) -> None:
    claims = make_claims()
    text = encode_pass(claims, es256_key)
    store = TrustStore()
    store.add(es256_key.public_key(), not_after=now + 10)
    assert decode_pass(text, store, now=now) == claims  # still verifying old passes
    assert _reason(text, store, now + 11) == "key_retired"
    store.add(es256_key.public_key(), not_after=claims.issued_at - 1)  # minted after retirement
    assert _reason(text, store, claims.issued_at) == "key_retired"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "bad_prefix"),
        ("HC2:BB8", "bad_prefix"),
        ("pt1:BB8", "bad_prefix"),
        ("PT1:bb8", "bad_base45"),
        ("PT1:GGW", "bad_base45"),
        ("PT1:" + b45encode(b"\x78\x9c" + b"garbage"), "bad_compression"),
        ("PT1:" + b45encode(zlib.compress(b"\xd2\x84") + b"tail"), "bad_compression"),
        ("PT1:" + b45encode(zlib.compress(b"\0" * 200_000)), "bad_compression"),  # bomb
        ("PT1:" + b45encode(b"\xd2\x83\x40\xa0\x40"), "bad_cose"),
        ("PT1:" + b45encode(cbor2.dumps([b"", {}, b"", b""])), "bad_cose"),  # untagged
        ("PT1:" + b45encode(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b""]))), "bad_cose"),
    ],
)
def test_transport_and_structure_failures(
    text: str, reason: str, trust: TrustStore, now: int
) -> None:
    assert _reason(text, trust, now) == reason


def _signed(key: SigningKey, protected: dict[int, object], payload: bytes) -> str:
    """Sign with hand-made headers, for cases encode_pass never produces."""
    prot = cbor2.dumps(protected)
    sig = key.sign(sig_structure(prot, payload))
    return wrap(cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, sig])))


def test_unsupported_alg(es256_key: SigningKey, trust: TrustStore, now: int) -> None:
    text = _signed(es256_key, {1: -47, 4: es256_key.kid}, b"\xa0")  # ES256K
    assert _reason(text, trust, now) == "unsupported_alg"


def test_an_ecdsa_key_verifies_only_its_own_curves_algorithm(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    """A P-256 key's signature labelled ES384 (or a P-384 one labelled ES256) is refused."""
    payload = cbor2.loads(unwrap(encode_pass(make_claims(), es256_key)).cose).value[2]
    assert _reason(_signed(es256_key, {1: -35, 4: es256_key.kid}, payload), trust,
                   now) == "bad_signature"
    p384 = SigningKey.generate("ES384")
    store = TrustStore()
    store.add(p384.public_key())
    assert _reason(_signed(p384, {1: -7, 4: p384.kid}, payload), store, now) == "bad_signature"
    assert _reason(_signed(p384, {1: -36, 4: p384.kid}, payload), store,
                   now) == "bad_signature"


def test_alg_must_match_the_key(es256_key: SigningKey, trust: TrustStore, now: int) -> None:
    text = _signed(es256_key, {1: -8, 4: es256_key.kid}, b"\xa0")
    assert _reason(text, trust, now) == "bad_signature"


def test_bad_claims_even_when_signed(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    header = {1: -7, 4: es256_key.kid}
    assert _reason(_signed(es256_key, header, b"\xff"), trust, now) == "bad_claims"
    assert _reason(_signed(es256_key, header, b"\xa0"), trust, now) == "bad_claims"
    good = cbor2.loads(cbor2.loads(unwrap(encode_pass(make_claims(), es256_key)).cose).value[2])
    for key, bad in ((4, "soon"), (7, b"short"), (-65537, {"n": "x", "i": "1", "p": 99})):
        text = _signed(es256_key, header, cbor2.dumps(good | {key: bad}))
        assert _reason(text, trust, now) == "bad_claims"


def test_kid_must_be_protected_in_our_passes(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    payload = cbor2.loads(unwrap(encode_pass(make_claims(), es256_key)).cose).value[2]
    prot = cbor2.dumps({1: -7})
    sig = es256_key.sign(sig_structure(prot, payload))
    text = wrap(cbor2.dumps(cbor2.CBORTag(18, [prot, {4: es256_key.kid}, payload, sig])))
    assert _reason(text, trust, now) == "bad_cose"


@pytest.mark.parametrize("alg", ["ES384", "ES512", "EdDSA", "PS256"])
def test_other_algorithms_verify(alg: str, make_claims: MakeClaims, now: int) -> None:
    key = SigningKey.generate(alg)
    store = TrustStore()
    store.add(key.public_der())
    claims = make_claims()
    text = encode_pass(claims, key)
    assert decode_pass(text, store, now=now) == claims
    assert inspect_pass(text)["alg"] == alg
    assert _reason(text, TrustStore(), now) == "unknown_kid"


def test_zlib_only_when_shorter(
    es256_key: SigningKey, trust: TrustStore, make_claims: MakeClaims, now: int
) -> None:
    small = make_claims()
    text = encode_pass(small, es256_key)
    assert inspect_pass(text)["compressed"] is False
    assert b45decode(text[4:])[0] == 0xD2  # bare tag-18 COSE
    repetitive = make_claims(sites=tuple(f"site-{i:04d}-gate" for i in range(40)))
    text = encode_pass(repetitive, es256_key)
    info = inspect_pass(text)
    assert info["compressed"] is True
    assert info["sizes"]["transported_bytes"] < info["sizes"]["cose_bytes"]
    assert decode_pass(text, trust, now=now) == repetitive


def test_inspect_does_not_verify(other_key: SigningKey, make_claims: MakeClaims) -> None:
    claims = make_claims()
    info = inspect_pass(encode_pass(claims, other_key))
    assert info["prefix"] == "PT1"
    assert info["kid"] == other_key.kid.hex()
    assert info["verified"] is False
    assert info["claims"]["holder"] == "张*"
    assert info["claims"]["areas"] == ["110105", "110108"]
    assert info["cwt"]["iss"] == "PassTrace"


def test_typical_pass_is_small(es256_key: SigningKey, make_claims: MakeClaims) -> None:
    assert len(encode_pass(make_claims(), es256_key)) <= 300


@pytest.mark.parametrize(
    "change",
    [
        {"pass_id": "not-a-uuid"},
        {"purpose": "party"},
        {"valid_until": 1.5},
        {"companions": -1},
        {"areas": (1, 2)},
        {"plate": 7},
    ],
)
def test_encode_refuses_bad_claims(
    change: dict[str, object], es256_key: SigningKey, make_claims: MakeClaims
) -> None:
    with pytest.raises(ValueError):
        encode_pass(make_claims(**change), es256_key)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "EdDSA", "PS256"])
def test_keys_survive_pem_and_have_spki_kids(alg: str) -> None:
    key = SigningKey.generate(alg) if alg != "PS256" else _rsa_key()
    again = SigningKey.from_pem(key.private_pem())
    assert (again.alg, again.kid, again.public_der()) == (key.alg, key.kid, key.public_der())
    assert key.kid == kid_for(key.public_key()) and len(key.kid) == 8
    locked = SigningKey.from_pem(key.private_pem(b"secret"), b"secret")
    assert locked.kid == key.kid


_RSA: list[SigningKey] = []


def _rsa_key() -> SigningKey:
    if not _RSA:
        _RSA.append(SigningKey.generate("PS256"))
    return _RSA[0]


def test_unsupported_key_types() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    with pytest.raises(ValueError):
        SigningKey.generate("ES256K")
    with pytest.raises(ValueError):
        SigningKey(ec.generate_private_key(ec.SECP256K1()))
    with pytest.raises(ValueError):
        SigningKey(ec.generate_private_key(ec.SECP224R1()))


def test_trust_store_lookup(es256_key: SigningKey, other_key: SigningKey) -> None:
    store = TrustStore.from_der_list([es256_key.public_der()])
    assert es256_key.kid in store and len(store) == 1
    assert store.get(es256_key.kid) is not None
    assert store.get(other_key.kid) is None
    store.remove(es256_key.kid)
    assert list(store) == []


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=40) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.integers(-70000, 10) | st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300)
@given(
    protected=st.dictionaries(st.sampled_from([1, 4, 3]), cbor_values, max_size=3),
    unprotected=st.dictionaries(st.sampled_from([1, 4, 3]), cbor_values, max_size=2),
    payload=cbor_values,
    signature=st.binary(max_size=70),
)
def test_hostile_structures_only_ever_raise_pass_rejected(
    protected: dict[int, object],
    unprotected: dict[int, object],
    payload: object,
    signature: bytes,
    trust: TrustStore,
    now: int,
) -> None:
    message = [cbor2.dumps(protected), unprotected, cbor2.dumps(payload), signature]
    for prefix in ("PT1:", "HC1:"):
        text = wrap(cbor2.dumps(cbor2.CBORTag(18, message)), prefix)
        with pytest.raises(PassRejected):
            decode_pass(text, trust, now=now)
        with contextlib.suppress(PassRejected):
            json.dumps(inspect_pass(text))  # whatever it shows must be JSON-safe


@given(raw=st.binary(max_size=300))
def test_random_bytes_only_ever_raise_pass_rejected(
    raw: bytes, trust: TrustStore, now: int
) -> None:
    with pytest.raises(PassRejected):
        decode_pass("PT1:" + b45encode(raw), trust, now=now)


@pytest.mark.parametrize(("alg", "size", "curve"), [("ES256", 64, "secp256r1"),
                                                    ("ES384", 96, "secp384r1"),
                                                    ("ES512", 132, "secp521r1")])
def test_ecdsa_signatures_are_raw_low_s_and_their_twin_verifies(
    alg: str, size: int, curve: str, make_claims: MakeClaims, now: int
) -> None:
    """r||s of the curve's size (what WebCrypto verifies); s is the low one of (s, n - s).

    The twin (r, n - s) must verify too: that proves the group order the signer
    uses to pick the low s is the curve's own.
    """
    from cryptography.hazmat.primitives.asymmetric import ec

    from passtrace.codec.keys import ECDSA_ALGS

    key = SigningKey.generate(alg)
    store = TrustStore()
    store.add(key.public_der())
    order, half = ECDSA_ALGS[curve].order, size // 2
    assert isinstance(key.public_key(), ec.EllipticCurvePublicKey)
    for n in range(8):
        text = encode_pass(make_claims(plate=f"京A1234{n}"), key)
        protected, unprotected, payload, sig = cbor2.loads(unwrap(text).cose).value
        assert len(sig) == size
        r, s = sig[:half], int.from_bytes(sig[half:], "big")
        assert s <= order // 2
        twin = wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload,
                                                   r + (order - s).to_bytes(half, "big")])))
        assert decode_pass(twin, store, now=now) == make_claims(plate=f"京A1234{n}")
        bent = wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload,
                                                   r + (s ^ 1).to_bytes(half, "big")])))
        assert _reason(bent, store, now) == "bad_signature"
    assert _reason(wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload,
                                                       sig[:-1]]))), store, now) == "bad_signature"
