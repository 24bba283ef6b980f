"""Personal data protection: keyed hashes for lookup, encryption, masking."""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"  # ciphertext format version, so keys/algorithms can rotate


@cache
def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"passtrace-pii", info=purpose).derive(
        secret.encode()
    )


class PiiVault:
    """Hash, encrypt and decrypt personal data with keys derived from one secret."""

    def __init__(self, secret: str) -> None:
        self._hash_key = _derive(secret, b"lookup-hash")
        self._aead = AESGCM(_derive(secret, b"encryption"))

    def lookup_hash(self, value: str) -> str:
        """Return the keyed hash used to find a record by an ID number."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> bytes:
        """Encrypt a value (AES-256-GCM, random nonce)."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, value.encode(), None)

    def decrypt(self, blob: bytes) -> str:
        """Decrypt a value written by encrypt()."""
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(blob[1:13], blob[13:], None).decode()


def mask_id_number(id_number: str) -> str:
    """Show the area prefix and the last 4 characters: 520102********1234."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_name(name: str) -> str:
    """Keep the first character (the family name): 张* / 欧**."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    """Keep the first 3 and last 4 digits: 138****1234."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
