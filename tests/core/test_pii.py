"""Personal data is hashed for lookup, encrypted at rest and masked for display."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from passtrace.core.pii import PiiVault, mask_id_number, mask_name, mask_phone


def test_masks_match_what_the_gate_compares():
    assert mask_id_number("520102199003071234") == "520102********1234"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13885012345") == "138****2345"


def test_encryption_round_trips_and_is_randomized():
    vault = PiiVault("k" * 40)
    a, b = vault.encrypt("张三"), vault.encrypt("张三")
    assert a != b  # same value, different ciphertext: equal names don't show
    assert vault.decrypt(a) == "张三"


def test_another_deployments_key_cannot_read_or_find_the_data():
    ours, theirs = PiiVault("k" * 40), PiiVault("z" * 40)
    assert ours.lookup_hash("520102199003071234") != theirs.lookup_hash("520102199003071234")
    with pytest.raises(InvalidTag):
        theirs.decrypt(ours.encrypt("520102199003071234"))


def test_tampered_ciphertext_is_detected():
    vault = PiiVault("k" * 40)
    blob = bytearray(vault.encrypt("13885012345"))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        vault.decrypt(bytes(blob))


def test_each_ciphertext_names_its_key_and_a_previous_key_still_reads_it():
    old = PiiVault("a" * 40)
    blob = old.encrypt("张三")
    assert blob[:1] == b"\x02" and blob[1:9].hex() == old.current_kid
    rotated = PiiVault("b" * 40, hash_secret="a" * 40, previous=["a" * 40])
    assert rotated.decrypt(blob) == "张三" and not rotated.is_current(blob)
    assert rotated.is_current(rotated.encrypt("张三"))
    with pytest.raises(InvalidTag):
        PiiVault("b" * 40).decrypt(blob)  # once the old key is dropped, it is gone


def test_values_written_before_key_ids_still_read():
    import os as _os

    from passtrace.core.pii import _derive

    nonce = _os.urandom(12)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    legacy = b"\x01" + nonce + AESGCM(_derive("a" * 40, b"encryption")).encrypt(
        nonce, "李四".encode(), None)
    assert PiiVault("b" * 40, previous=["a" * 40]).decrypt(legacy) == "李四"


def test_the_lookup_hash_does_not_move_with_the_encryption_key():
    before = PiiVault("a" * 40)
    after = PiiVault("b" * 40, hash_secret="a" * 40, previous=["a" * 40])
    assert before.lookup_hash("520102199003071234") == after.lookup_hash("520102199003071234")


def test_signing_keys_are_wrapped_with_their_own_key():
    vault = PiiVault("a" * 40, wrap_secret="w" * 40)
    wrapped = vault.wrap("-----BEGIN PRIVATE KEY-----")
    with pytest.raises(InvalidTag):
        vault.decrypt(wrapped)  # the personal-data key cannot unwrap a signing key
    assert vault.unwrap(wrapped) == "-----BEGIN PRIVATE KEY-----"
    # A key stored before the keys were separated (under the data key) still unwraps.
    assert vault.unwrap(vault.encrypt("legacy pem")) == "legacy pem"
    assert not vault.is_wrapped_currently(vault.encrypt("legacy pem"))
