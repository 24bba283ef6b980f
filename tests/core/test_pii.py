"""Personal data is hashed for lookup, encrypted at rest and masked for display."""

from __future__ import annotations

import uuid

import pytest
from cryptography.exceptions import InvalidTag

from passtrace.core.pii import (
    NotThisRecord,
    PiiVault,
    binding,
    mask_id_number,
    mask_name,
    mask_phone,
)

AD = binding("people", "name_enc", ["h1"])
OTHER_ROW = binding("people", "name_enc", ["h2"])


def test_masks_match_what_the_gate_compares():
    assert mask_id_number("520102199003071234") == "520102********1234"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13885012345") == "138****2345"


def test_encryption_round_trips_and_is_randomized():
    vault = PiiVault("k" * 40)
    a, b = vault.encrypt("张三", ad=AD), vault.encrypt("张三", ad=AD)
    assert a != b  # same value, different ciphertext: equal names don't show
    assert vault.decrypt(a, ad=AD) == "张三"


def test_another_deployments_key_cannot_read_or_find_the_data():
    ours, theirs = PiiVault("k" * 40), PiiVault("z" * 40)
    assert ours.lookup_hash("520102199003071234") != theirs.lookup_hash("520102199003071234")
    with pytest.raises(InvalidTag):
        theirs.decrypt(ours.encrypt("520102199003071234", ad=AD), ad=AD)


def test_tampered_ciphertext_is_detected():
    vault = PiiVault("k" * 40)
    blob = bytearray(vault.encrypt("13885012345", ad=AD))
    blob[-1] ^= 1
    with pytest.raises(NotThisRecord):
        vault.decrypt(bytes(blob), ad=AD)


def test_each_ciphertext_names_its_key_and_a_previous_key_still_reads_it():
    old = PiiVault("a" * 40)
    blob = old.encrypt("张三", ad=AD)
    assert blob[:1] == b"\x03" and blob[1:9].hex() == old.current_kid
    rotated = PiiVault("b" * 40, hash_secret="a" * 40, previous=["a" * 40])
    assert rotated.decrypt(blob, ad=AD) == "张三" and not rotated.is_current(blob)
    assert rotated.is_current(rotated.encrypt("张三", ad=AD))
    with pytest.raises(InvalidTag):
        PiiVault("b" * 40).decrypt(blob, ad=AD)  # once the old key is dropped, it is gone


def test_values_written_before_key_ids_still_read():
    import os as _os

    from passtrace.core.pii import _derive

    nonce = _os.urandom(12)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    legacy = b"\x01" + nonce + AESGCM(_derive("a" * 40, b"encryption")).encrypt(
        nonce, "李四".encode(), None)
    assert PiiVault("b" * 40, previous=["a" * 40]).decrypt(legacy, ad=AD) == "李四"


def test_the_lookup_hash_does_not_move_with_the_encryption_key():
    before = PiiVault("a" * 40)
    after = PiiVault("b" * 40, hash_secret="a" * 40, previous=["a" * 40])
    assert before.lookup_hash("520102199003071234") == after.lookup_hash("520102199003071234")


def test_signing_keys_are_wrapped_with_their_own_key():
    vault = PiiVault("a" * 40, wrap_secret="w" * 40)
    wrapped = vault.wrap("-----BEGIN PRIVATE KEY-----", ad=AD)
    with pytest.raises(InvalidTag):
        vault.decrypt(wrapped, ad=AD)  # the personal-data key cannot unwrap a signing key
    assert vault.unwrap(wrapped, ad=AD) == "-----BEGIN PRIVATE KEY-----"
    # A key stored before the keys were separated (under the data key) still unwraps.
    assert vault.unwrap(vault.encrypt("legacy pem", ad=AD), ad=AD) == "legacy pem"
    assert not vault.is_wrapped_currently(vault.encrypt("legacy pem", ad=AD))


def test_a_value_copied_to_another_row_or_column_does_not_decrypt():
    vault = PiiVault("k" * 40)
    blob = vault.encrypt("张三", ad=AD)
    with pytest.raises(NotThisRecord):
        vault.decrypt(blob, ad=OTHER_ROW)
    with pytest.raises(NotThisRecord):
        vault.decrypt(blob, ad=binding("people", "phone_enc", ["h1"]))
    assert vault.decrypt(blob, ad=AD) == "张三"


def test_values_written_before_binding_still_read_and_are_due_for_rotation():
    import os as _os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from passtrace.core.pii import _derive

    vault = PiiVault("a" * 40)
    nonce = _os.urandom(12)
    unbound = (b"\x02" + bytes.fromhex(vault.current_kid) + nonce
               + AESGCM(_derive("a" * 40, b"encryption")).encrypt(nonce, "李四".encode(), None))
    assert vault.decrypt(unbound, ad=AD) == "李四"
    assert not vault.is_current(unbound)  # `keys rotate-pii` binds it


def test_a_reference_turns_back_into_its_id_only_with_the_key_and_purpose():
    vault, record = PiiVault("k" * 40), uuid.uuid4()
    ref = vault.reference(record, purpose="status-holder")
    assert len(ref) == 16 and ref != record.bytes
    assert ref == vault.reference(record, purpose="status-holder")  # stable
    assert vault.resolve_reference(ref, purpose="status-holder") == record
    assert vault.resolve_reference(ref, purpose="other") != record
    # The reference is keyed on the lookup-hash secret (it never rotates): a new
    # encryption key still resolves it; another lookup-hash secret does not.
    rotated = PiiVault("b" * 40, hash_secret="k" * 40, previous=["k" * 40])
    assert rotated.resolve_reference(ref, purpose="status-holder") == record
    assert PiiVault("z" * 40).resolve_reference(ref, purpose="status-holder") != record
    assert vault.resolve_reference(b"short", purpose="status-holder") is None
