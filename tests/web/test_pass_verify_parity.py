"""The offline page verifies passes (cose.js, WebCrypto) exactly as the server's codec does.

A checkpoint without network checks signatures in the browser; a trust list may
carry P-256, P-384 and P-521 keys (ES256, ES384, ES512), Ed25519 (EdDSA) and RSA (PS256)
keys: whatever `passtrace keys rotate --alg` made. Every pass below, signed
in Python with keys generated here, runs through codec.decode_pass and through
static/js/checkpoint/cose.js in real Chromium, and the two must agree.
"""

from __future__ import annotations

import uuid
from typing import Any

import cbor2

from passtrace.codec import PassClaims, PassRejected, SigningKey, TrustStore, decode_pass
from passtrace.codec.cose import sig_structure
from passtrace.codec.pipeline import encode_pass
from passtrace.codec.transport import unwrap, wrap

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z


def _claims(n: int) -> PassClaims:
    return PassClaims(pass_id=str(uuid.UUID(int=(7 << 76) | n)), holder="张*", id_last4="123X",
                      purpose="commute", valid_from=NOW - 3600, valid_until=NOW + 86400,
                      issued_at=NOW - 3600, areas=("520102",), plate="贵A12345")


def _relabelled(text: str, alg_id: int, key: SigningKey) -> str:
    """The same claims signed by `key`, but with another alg in the protected header."""
    payload = cbor2.loads(unwrap(text).cose).value[2]
    protected = cbor2.dumps({1: alg_id, 4: key.kid})
    return wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload,
                                                key.sign(sig_structure(protected, payload))])))


def _bent(text: str) -> str:
    """One bit of the signature flipped."""
    protected, unprotected, payload, sig = cbor2.loads(unwrap(text).cose).value
    return wrap(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload,
                                                sig[:-1] + bytes([sig[-1] ^ 1])])))


def _python(text: str, trust: TrustStore) -> str:
    try:
        return decode_pass(text, trust, now=NOW).pass_id
    except PassRejected as exc:
        return exc.reason


def test_the_offline_page_verifies_every_signing_alg_like_the_server(page: Any) -> None:
    keys = {alg: SigningKey.generate(alg) for alg in ("ES256", "ES384", "ES512", "EdDSA",
                                                      "PS256")}
    stranger = SigningKey.generate("ES384")  # not in the trust list
    trust = TrustStore()
    for key in keys.values():
        trust.add(key.public_key())
    texts = []
    for n, key in enumerate(keys.values()):
        good = encode_pass(_claims(n), key)
        texts += [good, _bent(good)]
    texts += [
        encode_pass(_claims(9), stranger),
        # Another curve's label on a trusted key's signature: no curve confusion.
        _relabelled(texts[0], -35, keys["ES256"]),
        _relabelled(texts[2], -7, keys["ES384"]),
        _relabelled(texts[4], -35, keys["ES512"]),
        _relabelled(texts[0], -47, keys["ES256"]),  # ES256K: not ours
        # EdDSA and PS256 labels on other keys' signatures, and the other way round.
        _relabelled(texts[0], -8, keys["ES256"]),
        _relabelled(texts[6], -7, keys["EdDSA"]),
        _relabelled(texts[8], -8, keys["PS256"]),
        _relabelled(texts[0], -37, keys["ES256"]),
    ]
    expected = [_python(t, trust) for t in texts]
    assert expected[:10:2] == [_claims(n).pass_id for n in range(5)]  # every alg verifies
    assert set(expected[1:10:2]) == {"bad_signature"}
    assert expected[10:] == ["unknown_kid", "bad_signature", "bad_signature", "bad_signature",
                             "unsupported_alg"] + ["bad_signature"] * 4
    page.goto("/login")
    got = page.evaluate(
        """async ([texts, keys, now]) => {
            const m = await import('/static/js/checkpoint/cose.js');
            const trust = new Map();
            for (const [kid, alg, der] of keys) {
                trust.set(kid, {key: await m.importKey(m.unb64(der), alg), notAfter: null,
                                retiredAt: null});
            }
            const out = [];
            for (const text of texts) {
                try { out.push((await m.verifyPass(text, trust, new Set(), now)).passId); }
                catch (e) { out.push(e.reason || String(e)); }
            }
            return out;
        }""",
        [texts, [[k.kid.hex(), k.alg_id, _b64(k.public_der())] for k in keys.values()], NOW])
    assert got == expected


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()
