"""Rotating the personal-data key: every ciphertext moves to the new key, people are still
found by ID number, passes still sign — and serving on the public built-in keys is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from passtrace.cli import pii_keys
from passtrace.cli.main import app
from passtrace.core.pii import PiiVault
from passtrace.passes import keyring
from passtrace.passes.models import SigningKeyRecord
from passtrace.people import service as people_service
from passtrace.people.models import Person
from tests.conftest import next_id_number

NEW, WRAP = "n" * 40, "w" * 40


def test_rotation_moves_every_value_to_the_new_keys(rt, session):
    old_vault = rt.vault  # the deployment's keys so far: one key for everything
    old, lookup = rt.settings.pii_encryption_key, rt.settings.pii_lookup_key
    id_number = next_id_number()
    person = people_service.register(session=session, vault=old_vault, actor=None,
                                     id_number=id_number, name="王五", phone="13800001111")
    keyring.ensure(session=session, vault=old_vault)
    session.flush()

    new_vault = PiiVault(NEW, hash_secret=lookup, previous=[old], wrap_secret=WRAP)
    report = pii_keys.rotate(session.connection(), new_vault)
    assert report.rewritten["people.name_enc"] >= 1
    assert report.rewritten["signing_keys.private_enc"] >= 2  # the pass key and the root
    session.expire_all()

    only_new = PiiVault(NEW, hash_secret=lookup, wrap_secret=WRAP)  # the old key is dropped
    row = session.get(Person, person.id)
    assert only_new.decrypt(row.name_enc, ad=row.pii_ad("name_enc")) == "王五"
    assert only_new.decrypt(row.id_enc, ad=row.pii_ad("id_enc")) == id_number
    found = people_service.find_by_id_number(session=session, vault=only_new,
                                             id_number=id_number)
    assert found is not None and found.id == person.id
    for record in session.scalars(select(SigningKeyRecord)):
        assert only_new.is_wrapped_currently(record.private_enc)
    assert keyring.current_signer(session=session, vault=only_new) is not None
    # A second run finds nothing left to do.
    assert pii_keys.rotate(session.connection(), new_vault).total == 0


def test_every_encrypted_column_is_covered():
    names = {f"{t.name}.{c.name}" for t, c in pii_keys.encrypted_columns()}
    assert {"people.id_enc", "people.name_enc", "people.phone_enc",
            "signing_keys.private_enc"} <= names


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_serve_refuses_the_built_in_keys(monkeypatch, env):
    for name in ("SECRET_KEY", "PII_KEY", "PII_HASH_KEY", "KEY_WRAP_KEY"):
        monkeypatch.delenv(f"PASSTRACE_{name}", raising=False)
    monkeypatch.setenv("PASSTRACE_ENV", "dev")
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "PASSTRACE_PII_KEY" in result.output and "--insecure-dev" in result.output
