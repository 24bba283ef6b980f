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
