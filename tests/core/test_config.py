"""Settings fail loudly on unsafe or malformed values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from passtrace.core.config import Settings


@pytest.mark.parametrize("env", ["prod", "test"])
def test_it_refuses_the_default_secret_outside_dev_and_demo(monkeypatch, env):
    monkeypatch.delenv("PASSTRACE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env=env)
    assert Settings(env="demo").secret_key  # the demo runs out of the box


def test_secrets_can_come_from_files(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("s" * 48 + "\n")
    monkeypatch.setenv("PASSTRACE_SECRET_KEY_FILE", str(secret))
    for name, value in (("pii_key", "p"), ("pii_hash_key", "h"), ("key_wrap_key", "w")):
        path = tmp_path / name
        path.write_text(value * 40)
        monkeypatch.setenv(f"PASSTRACE_{name.upper()}_FILE", str(path))
    monkeypatch.setenv("PASSTRACE_ENV", "prod")
    settings = Settings()
    assert settings.secret_key == "s" * 48
    assert (settings.pii_key, settings.key_wrap_key) == ("p" * 40, "w" * 40)


def test_out_of_range_values_are_refused(monkeypatch):
    monkeypatch.setenv("PASSTRACE_PASS_MAX_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings()


KEYS = {"PASSTRACE_SECRET_KEY": "s" * 40, "PASSTRACE_PII_KEY": "p" * 40,
        "PASSTRACE_PII_HASH_KEY": "h" * 40, "PASSTRACE_KEY_WRAP_KEY": "w" * 40}


def _env(monkeypatch, **values):
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("left_out", sorted(KEYS))
def test_production_needs_a_key_for_each_purpose(monkeypatch, left_out):
    _env(monkeypatch, **{k: v for k, v in KEYS.items() if k != left_out})
    with pytest.raises(ValidationError, match=left_out):
        Settings(env="prod")


def test_production_refuses_one_key_for_two_purposes(monkeypatch):
    _env(monkeypatch, **(KEYS | {"PASSTRACE_KEY_WRAP_KEY": "s" * 40}))
    with pytest.raises(ValidationError, match="different"):
        Settings(env="prod")


def test_production_starts_with_its_own_keys(monkeypatch):
    _env(monkeypatch, **KEYS)
    settings = Settings(env="prod")
    assert settings.missing_explicit_keys() == []
    # An upgrade from one PII key may keep it for the lookup hash.
    _env(monkeypatch, **(KEYS | {"PASSTRACE_PII_HASH_KEY": "p" * 40}))
    assert Settings(env="prod").pii_lookup_key == "p" * 40


def test_the_session_secret_no_longer_protects_personal_data(monkeypatch):
    _env(monkeypatch, **KEYS)
    settings = Settings(env="prod")
    assert settings.secret_key not in (settings.pii_encryption_key, settings.pii_lookup_key,
                                       settings.signing_wrap_key)
