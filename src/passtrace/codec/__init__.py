"""The signed pass format: CWT claims in COSE_Sign1, zlib if shorter, Base45, "PT1:".

A pure library (no database, no web): the server signs with it, checkpoints
verify with it offline, and `passtrace codec conformance` checks the shared
transport against the EU DCC test vectors.
"""

from passtrace.codec.base45 import Base45Error, b45decode, b45encode
from passtrace.codec.claims import PURPOSES, PassClaims
from passtrace.codec.errors import REASONS, PassRejected
from passtrace.codec.keys import SigningKey, TrustedKey, TrustStore, kid_for
from passtrace.codec.lists import (
    RevocationSet,
    revocation_key_for,
    sign_revocation_list,
    sign_trust_list,
    verify_revocation_list,
    verify_trust_list,
)
from passtrace.codec.pipeline import (
    check_at,
    decode_pass,
    encode_pass,
    inspect_pass,
    verify_pass,
)
from passtrace.codec.transport import DCC_PREFIX, PREFIX

__all__ = [
    "DCC_PREFIX",
    "PREFIX",
    "PURPOSES",
    "REASONS",
    "Base45Error",
    "PassClaims",
    "PassRejected",
    "RevocationSet",
    "SigningKey",
    "TrustStore",
    "TrustedKey",
    "b45decode",
    "b45encode",
    "check_at",
    "decode_pass",
    "encode_pass",
    "inspect_pass",
    "kid_for",
    "revocation_key_for",
    "sign_revocation_list",
    "sign_trust_list",
    "verify_pass",
    "verify_revocation_list",
    "verify_trust_list",
]
