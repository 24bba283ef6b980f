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
    monkeypatch.setenv("PASSTRACE_ENV", "prod")
    settings = Settings()
    assert settings.secret_key == "s" * 48


def test_out_of_range_values_are_refused(monkeypatch):
    monkeypatch.setenv("PASSTRACE_PASS_MAX_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings()
