"""Signing keys, key ids and the trust store a verifier looks keys up in."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

# COSE algorithm ids (RFC 9053 / RFC 8230).
ALG_IDS: dict[str, int] = {"ES256": -7, "ES384": -35, "ES512": -36, "EdDSA": -8,
                           "PS256": -37}
ALG_NAMES: dict[int, str] = {v: k for k, v in ALG_IDS.items()}

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
Verifier = Callable[[bytes, bytes], bool]

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True, slots=True)
class EcdsaAlg:
    """One ECDSA algorithm of COSE: its curve, hash, the group order n and the size of r and s.

    RFC 9053 pairs each with one curve (ES256: P-256 + SHA-256, ES384: P-384 +
    SHA-384, ES512: P-521 + SHA-512); a signature is r||s, each as many bytes as
    the curve's order (66 for P-521, whose order has 521 bits).
    """

    name: str
    curve: type[ec.EllipticCurve]
    ecdsa: ec.ECDSA
    order: int
    size: int


# The curve orders n (SEC 2 / FIPS 186-4).
ECDSA_ALGS: dict[str, EcdsaAlg] = {  # by the curve's name, as key.curve.name gives it
    "secp256r1": EcdsaAlg("ES256", ec.SECP256R1, ec.ECDSA(hashes.SHA256()), P256_ORDER, 32),
    "secp384r1": EcdsaAlg("ES384", ec.SECP384R1, ec.ECDSA(hashes.SHA384()), int(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
        "581a0db248b0a77aecec196accc52973", 16), 48),
    "secp521r1": EcdsaAlg("ES512", ec.SECP521R1, ec.ECDSA(hashes.SHA512()), int(
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409", 16), 66),
}
_ECDSA_BY_NAME = {alg.name: alg for alg in ECDSA_ALGS.values()}
# RFC 8230: PS256 uses MGF1 with SHA-256 and a salt as long as the hash.
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
_SHA256 = hashes.SHA256()


def alg_for(key: PrivateKey | PublicKey) -> str:
    """Return the COSE algorithm name a key type is used with, or raise ValueError."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        found = ECDSA_ALGS.get(key.curve.name)
        if found is not None and isinstance(key.curve, found.curve):
            return found.name
        raise ValueError(f"unsupported curve {key.curve.name}; ES256, ES384 and ES512 need "
                         "P-256, P-384 and P-521")
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError("RSA keys shorter than 2048 bits are not accepted")
        return "PS256"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def spki_der(public_key: PublicKey) -> bytes:
    """Return the SubjectPublicKeyInfo DER of a public key."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def kid_for(public_key: PublicKey) -> bytes:
    """Return the key id: the first 8 bytes of SHA-256 over the SPKI DER."""
    return hashlib.sha256(spki_der(public_key)).digest()[:8]


class SigningKey:
    """A private key with its COSE algorithm and key id."""

    __slots__ = ("_private", "alg", "alg_id", "kid")

    def __init__(self, private_key: PrivateKey) -> None:
        self.alg: str = alg_for(private_key)
        self.alg_id: int = ALG_IDS[self.alg]
        self._private = private_key
        self.kid: bytes = kid_for(private_key.public_key())

    @classmethod
    def generate(cls, alg: str = "ES256") -> SigningKey:
        """Generate a fresh key for "ES256", "ES384", "ES512", "EdDSA" or "PS256"."""
        if alg in _ECDSA_BY_NAME:
            return cls(ec.generate_private_key(_ECDSA_BY_NAME[alg].curve()))
        if alg == "EdDSA":
            return cls(ed25519.Ed25519PrivateKey.generate())
        if alg == "PS256":
            return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        raise ValueError(f"unsupported algorithm {alg!r}")

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> SigningKey:
        """Load a PEM private key (PKCS#8 or traditional)."""
        key = serialization.load_pem_private_key(pem, password=password)
        if not isinstance(key, PrivateKey):
            raise ValueError(f"unsupported key type {type(key).__name__}")
        return cls(key)

    def private_pem(self, password: bytes | None = None) -> bytes:
        """Return the private key as PKCS#8 PEM, encrypted when a password is given."""
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
        )

    def public_key(self) -> PublicKey:
        """Return the public half."""
        return self._private.public_key()

    def public_der(self) -> bytes:
        """Return the public key as SubjectPublicKeyInfo DER."""
        return spki_der(self._private.public_key())

    def sign(self, data: bytes) -> bytes:
        """Sign bytes the way COSE wants (ECDSA as raw r||s: 64, 96 or 132 bytes)."""
        key = self._private
        if isinstance(key, ec.EllipticCurvePrivateKey):
            alg = ECDSA_ALGS[key.curve.name]
            r, s = decode_dss_signature(key.sign(data, alg.ecdsa))
            # (r, s) and (r, n - s) both verify: always the low s, so one pass has one
            # text. Passes signed before this may carry the high one and still verify;
            # a pass is known by its pass id, never by its text.
            s = min(s, alg.order - s)
            return r.to_bytes(alg.size, "big") + s.to_bytes(alg.size, "big")
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, _PSS, _SHA256)
        return key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg!r}, kid={self.kid.hex()!r})"


def make_verifier(public_key: PublicKey) -> Verifier:
    """Build a closure checking a COSE signature with this key; built once per key."""
    alg_for(public_key)  # refuses curves and sizes we do not support
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        ec_verify = public_key.verify
        alg = ECDSA_ALGS[public_key.curve.name]
        size, ecdsa = alg.size, alg.ecdsa

        def check_ecdsa(signature: bytes, data: bytes) -> bool:
            if len(signature) != 2 * size:
                return False
            # COSE carries raw r||s (as WebCrypto does); cryptography wants DER.
            der = encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            try:
                ec_verify(der, data, ecdsa)
            except InvalidSignature:
                return False
            return True

        return check_ecdsa
    if isinstance(public_key, rsa.RSAPublicKey):
        rsa_verify = public_key.verify

        def check_ps256(signature: bytes, data: bytes) -> bool:
            try:
                rsa_verify(signature, data, _PSS, _SHA256)
            except (InvalidSignature, ValueError):
                return False
            return True

        return check_ps256
    ed_verify = public_key.verify

    def check_eddsa(signature: bytes, data: bytes) -> bool:
        try:
            ed_verify(signature, data)
        except InvalidSignature:
            return False
        return True

    return check_eddsa


def load_public_key(key: Any) -> PublicKey:
    """Accept a public key object, SPKI DER bytes or a SigningKey."""
    if isinstance(key, SigningKey):
        return key.public_key()
    if isinstance(key, bytes | bytearray | memoryview):
        key = serialization.load_der_public_key(bytes(key))
    if not isinstance(key, PublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """One trusted key with its ready-made verifier."""

    kid: bytes
    public_key: PublicKey
    alg_id: int
    not_after: int | None
    verify: Verifier
    # When the key stopped signing: a pass it "issued" later was minted with a key that
    # should no longer sign (a leaked or misused key), however long it still verifies.
    retired_at: int | None = None


class TrustStore:
    """Trusted public keys by kid (a dict, so lookup is O(1))."""

    def __init__(self) -> None:
        self._keys: dict[bytes, TrustedKey] = {}

    def add(
        self, public_key: Any, *, kid: bytes | None = None, not_after: int | None = None,
        retired_at: int | None = None,
    ) -> bytes:
        """Trust a key (object, DER or SigningKey); return its kid."""
        key = load_public_key(public_key)
        kid = kid_for(key) if kid is None else bytes(kid)
        alg_id = ALG_IDS[alg_for(key)]
        self._keys[kid] = TrustedKey(kid, key, alg_id, not_after, make_verifier(key),
                                     retired_at)
        return kid

    def get(self, kid: bytes) -> PublicKey | None:
        """Return the public key for a kid, or None."""
        entry = self._keys.get(kid)
        return entry.public_key if entry else None

    def entry(self, kid: bytes) -> TrustedKey | None:
        """Return the full entry (key, alg, not_after, verifier) for a kid, or None."""
        return self._keys.get(kid)

    def remove(self, kid: bytes) -> None:
        """Stop trusting a kid (no error when absent)."""
        self._keys.pop(kid, None)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    @classmethod
    def from_der_list(cls, ders: Iterable[bytes]) -> TrustStore:
        """Build a store from SubjectPublicKeyInfo DER blobs."""
        store = cls()
        for der in ders:
            store.add(der)
        return store

    @classmethod
    def from_trust_list(cls, trust_list: dict[str, Any]) -> TrustStore:
        """Build a store from the dict `verify_trust_list` returns."""
        store = cls()
        for item in trust_list["keys"]:
            der = base64.b64decode(item["public_key_der_b64"])
            store.add(der, kid=bytes.fromhex(item["kid"]), not_after=item.get("not_after"),
                      retired_at=item.get("retired_at"))
        return store
