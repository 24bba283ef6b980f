"""Shared fixtures for the pass codec tests (session-scoped, so hypothesis can use them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from passtrace.codec import PassClaims, SigningKey, TrustStore

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z

MakeClaims = Callable[..., PassClaims]


@pytest.fixture(scope="session")
def now() -> int:
    return NOW


@pytest.fixture(scope="session")
def make_claims() -> MakeClaims:
    """Build the pass checkpoints see most (2 areas, a plate, a Chinese masked name)."""

    def build(**changes: object) -> PassClaims:
        fields: dict[str, object] = {
            "pass_id": str(uuid.UUID("0190f5a2-7c3e-7d41-9a6b-3f2e1d0c4b5a")),
            "holder": "张*",
            "id_last4": "123X",
            "purpose": "commute",
            "valid_from": NOW - 3600,
            "valid_until": NOW + 7 * 86400,
            "issued_at": NOW - 3600,
            "areas": ("110105", "110108"),
            "plate": "京A12345",
        }
        fields.update(changes)
        return PassClaims(**fields)  # type: ignore[arg-type]

    return build


@pytest.fixture(scope="session")
def es256_key() -> SigningKey:
    return SigningKey.generate("ES256")


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    return SigningKey.generate("ES256")


@pytest.fixture(scope="session")
def trust(es256_key: SigningKey) -> TrustStore:
    store = TrustStore()
    store.add(es256_key.public_key())
    return store
