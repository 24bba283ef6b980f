"""Personal data protection: keyed hashes for lookup, encryption, masking.

Three keys with three purposes, none derived from the session secret:
- the lookup-hash key (HMAC-SHA256 of an ID number, to find a person): it never
  rotates — a new one would need every ID number decrypted and hashed again;
- the encryption key (AES-256-GCM for ID numbers, names, phones): every ciphertext
  names the key that wrote it, so `passtrace keys rotate-pii` can move old rows to a
  new key while the old one still decrypts them (`PASSTRACE_PII_PREVIOUS_KEYS`), and is
  bound to its row and column (AES-GCM associated data, see `PiiBound`), so a ciphertext
  copied to another row or field no longer decrypts;
- the wrapping key for the pass-signing private keys (`wrap` / `unwrap`), so reading
  personal data and minting passes are separate powers.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from passtrace.core.errors import InvalidState
from passtrace.core.i18n import N_

# Ciphertext formats. v1 (the first release): 0x01 | nonce(12) | ciphertext — it does not
# say which key wrote it, so reading one tries each known key. v2: 0x02 | key id(8) |
# nonce(12) | ciphertext. v3: as v2, and the associated data names the table, column and
# row the value belongs to (`binding`). v1 and v2 are read without it until
# `passtrace keys rotate-pii` rewrites them as v3.
_V1 = b"\x01"
_V2 = b"\x02"
_V3 = b"\x03"
_KID_LEN = 8
_NONCE_LEN = 12


@cache
def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"passtrace-pii", info=purpose).derive(
        secret.encode()
    )


@cache
def _reference_key(root: str, purpose: str) -> bytes:
    """A purpose's reference key (PiiVault.reference), derived once per process."""
    return _derive(root, b"reference:" + purpose.encode())


class NotThisRecord(InvalidState):
    """A bound ciphertext read for another row or field (copied there in the database)."""

    def __init__(self) -> None:
        super().__init__(N_("This value cannot be read: it was not written for this "
                            "record. The database may have been altered; tell the "
                            "administrator."))


def binding(table: str, column: str, identity: Sequence[object]) -> bytes:
    """The associated data that ties a ciphertext to one column of one row."""
    return "\x1f".join(["passtrace-pii", table, column, *map(str, identity)]).encode()


class PiiBound:
    """A model whose `*_enc` columns are bound to the row named by `PII_BIND` columns.

    The identity must be known before the row is inserted and never change: the primary
    key when the caller sets it, or a unique value such as a person's lookup hash.
    """

    PII_BIND: ClassVar[tuple[str, ...]] = ("id",)

    @classmethod
    def pii_ad_for(cls, column: str, values: Mapping[str, Any]) -> bytes:
        """The associated data for `column` of a row with these values (bulk inserts)."""
        table: str = getattr(cls, "__tablename__")  # noqa: B009 - set by each model
        return binding(table, column, [values[c] for c in cls.PII_BIND])

    def pii_ad(self, column: str) -> bytes:
        """The associated data for `column` of this row."""
        return self.pii_ad_for(column, {c: getattr(self, c) for c in self.PII_BIND})


class _Keyring:
    """AES-GCM keys by id: the first writes, all of them read."""

    def __init__(self, secrets: Sequence[str], purpose: bytes) -> None:
        self.keys: dict[bytes, AESGCM] = {}
        for secret in secrets:
            raw = _derive(secret, purpose)
            self.keys.setdefault(hashlib.sha256(raw).digest()[:_KID_LEN], AESGCM(raw))
        self.current_kid = next(iter(self.keys))

    def encrypt(self, value: str, ad: bytes) -> bytes:
        nonce = os.urandom(_NONCE_LEN)
        return (_V3 + self.current_kid + nonce
                + self.keys[self.current_kid].encrypt(nonce, value.encode(), ad))

    def decrypt(self, blob: bytes, ad: bytes | None) -> str:
        version = blob[:1]
        if version in (_V2, _V3):
            kid, rest = blob[1:1 + _KID_LEN], blob[1 + _KID_LEN:]
            key = self.keys.get(kid)
            if key is None:
                raise InvalidTag(f"no key with id {kid.hex()} is configured")
            if version == _V2:
                return key.decrypt(rest[:_NONCE_LEN], rest[_NONCE_LEN:], None).decode()
            if ad is None:
                raise ValueError("a bound ciphertext needs its associated data")
            try:
                return key.decrypt(rest[:_NONCE_LEN], rest[_NONCE_LEN:], ad).decode()
            except InvalidTag:
                # The key is right (its id matched), so the value was written for another
                # row or column, or altered.
                raise NotThisRecord() from None
        if version == _V1:
            for key in self.keys.values():
                try:
                    return key.decrypt(blob[1:13], blob[13:], None).decode()
                except InvalidTag:
                    continue
            raise InvalidTag("no configured key decrypts this value")
        raise ValueError("unknown ciphertext version")

    def is_current(self, blob: bytes) -> bool:
        return blob[:1] == _V3 and blob[1:1 + _KID_LEN] == self.current_kid


class PiiVault:
    """Hash, encrypt and decrypt personal data; wrap the pass-signing keys."""

    def __init__(self, secret: str, *, hash_secret: str | None = None,
                 previous: Sequence[str] = (), wrap_secret: str | None = None) -> None:
        """`secret` is the current encryption key, `previous` older ones (read only);
        the lookup-hash and wrapping keys default to `secret` (development only)."""
        self._hash_key = _derive(hash_secret or secret, b"lookup-hash")
        # The references' keys, one per purpose, derived from this one (made here: the
        # vault keeps no raw secret).
        self._reference_root = _derive(hash_secret or secret, b"reference").hex()
        self._data = _Keyring([secret, *previous], b"encryption")
        # Until a wrapping key of its own is set, the data key's secret wraps (under its
        # own derivation); after that, the data keys still unwrap what they wrapped.
        self._wrap = _Keyring([wrap_secret or secret, secret, *previous], b"key-wrapping")

    @property
    def current_kid(self) -> str:
        """The id of the key new personal data is encrypted with (hex)."""
        return self._data.current_kid.hex()

    def lookup_hash(self, value: str) -> str:
        """Return the keyed hash used to find a record by an ID number."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def _reference_cipher(self, purpose: str) -> Cipher[modes.ECB]:
        # One AES block is a keyed permutation of 16 bytes: a UUID in, 16 bytes out that
        # look random, the same each time, and only this key turns back into the UUID.
        # ECB leaks nothing here: there is exactly one block and no data beyond it.
        key = _reference_key(self._reference_root, purpose)
        return Cipher(algorithms.AES(key), modes.ECB())

    def reference(self, value: uuid.UUID, *, purpose: str) -> bytes:
        """A 16-byte reference to a record id that only the server can resolve.

        Under the lookup-hash secret (it never rotates), so a reference handed out once
        keeps resolving; names nobody without that key; one `purpose` cannot be read as
        another's. Deterministic: use it where a stable reference is already given out.
        """
        enc = self._reference_cipher(purpose).encryptor()
        return enc.update(value.bytes) + enc.finalize()

    def resolve_reference(self, ref: bytes, *, purpose: str) -> uuid.UUID | None:
        """The record id a `reference` stands for (None: not 16 bytes). Any 16 bytes
        resolve to some id: the caller looks it up and treats an unknown id as nobody."""
        if len(ref) != 16:
            return None
        dec = self._reference_cipher(purpose).decryptor()
        return uuid.UUID(bytes=dec.update(ref) + dec.finalize())

    def encrypt(self, value: str, *, ad: bytes) -> bytes:
        """Encrypt a value for one column of one row (`PiiBound.pii_ad`): AES-256-GCM,
        random nonce, the current key's id in front."""
        return self._data.encrypt(value, ad)

    def decrypt(self, blob: bytes, *, ad: bytes) -> str:
        """Decrypt a value of this row and column (current or previous key).

        Raises NotThisRecord when the value was written for another row or column.
        Values written before binding (v1, v2) read without it until rotated.
        """
        return self._data.decrypt(blob, ad)

    def read(self, row: PiiBound, column: str) -> str:
        """Decrypt `column` of a bound row (which must hold a value)."""
        blob = getattr(row, column)
        if blob is None:
            raise ValueError(f"{column} is empty")
        return self.decrypt(blob, ad=row.pii_ad(column))

    def is_current(self, blob: bytes) -> bool:
        """Tell whether a ciphertext is bound and under the current encryption key."""
        return self._data.is_current(blob)

    def wrap(self, private_pem: str, *, ad: bytes) -> bytes:
        """Encrypt a signing key's private part with the wrapping key, bound to its row."""
        return self._wrap.encrypt(private_pem, ad)

    def unwrap(self, blob: bytes, *, ad: bytes) -> str:
        """Decrypt a wrapped signing key (also one wrapped before keys were separated)."""
        try:
            return self._wrap.decrypt(blob, ad)
        except InvalidTag:
            # Signing keys stored before keys were separated were written with the data
            # key; they stay readable until `passtrace keys rotate-pii` re-wraps them.
            return self._data.decrypt(blob, ad)

    def is_wrapped_currently(self, blob: bytes) -> bool:
        """Tell whether a wrapped signing key is bound and under the current wrapping key."""
        return self._wrap.is_current(blob)


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
