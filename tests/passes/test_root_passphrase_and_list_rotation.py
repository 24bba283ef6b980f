"""The trust-root key file is encrypted under a passphrase (from the environment, a file,
or the terminal), and `keys rotate-list` replaces the online revocation-list key: the root
signs a trust list naming the new key, and the old one verifies its lists until they
expire."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key
from sqlalchemy import select
from typer.testing import CliRunner

from passtrace.codec import (
    PassRejected,
    SigningKey,
    revocation_key_for,
    sign_revocation_list,
    verify_revocation_list,
    verify_trust_list,
)
from passtrace.core.errors import InvalidState
from passtrace.passes import keyring, trust_root
from passtrace.passes.models import SigningKeyRecord

PASSPHRASE = "correct horse battery staple"


def _trusted(session) -> dict:  # type: ignore[no-untyped-def]
    record = trust_root.newest(session=session)
    assert record is not None
    return verify_trust_list(record.listing["signed"],
                             load_der_public_key(record.root_public_der))


def _list_signed_by(key: SigningKey) -> str:
    now = int(datetime.now(UTC).timestamp())
    return sign_revocation_list([], key, version=1, issued_at=now)


def test_an_encrypted_root_opens_only_with_its_passphrase(tmp_path: Path):
    path = tmp_path / "root.pem"
    root = trust_root.load_or_generate(path, PASSPHRASE.encode())
    assert trust_root.is_encrypted(path) and b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert trust_root.load(path, PASSPHRASE.encode()).kid == root.kid
    with pytest.raises(InvalidState, match="is encrypted"):
        trust_root.load(path)
    with pytest.raises(InvalidState, match="passphrase does not open"):
        trust_root.load(path, b"wrong horse")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    from passtrace.cli.main import app

    monkeypatch.setenv("PASSTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    monkeypatch.delenv("PASSTRACE_TRUST_ROOT_PASSPHRASE", raising=False)
    monkeypatch.delenv("PASSTRACE_TRUST_ROOT_PASSPHRASE_FILE", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return runner, app


def test_the_cli_takes_the_passphrase_from_the_environment_or_a_file(cli, tmp_path: Path,
                                                                     monkeypatch):
    runner, app = cli
    root = tmp_path / "root.pem"
    monkeypatch.setenv("PASSTRACE_TRUST_ROOT_PASSPHRASE", PASSPHRASE)
    made = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root),
                               "--generate"])
    assert made.exit_code == 0, made.output
    assert trust_root.is_encrypted(root)
    monkeypatch.delenv("PASSTRACE_TRUST_ROOT_PASSPHRASE")
    refused = runner.invoke(app, ["keys", "rotate", "--root-key", str(root)])
    assert refused.exit_code == 1 and "已加密" in refused.output
    secret = tmp_path / "passphrase"
    secret.write_text("wrong horse\n")
    monkeypatch.setenv("PASSTRACE_TRUST_ROOT_PASSPHRASE_FILE", str(secret))
    wrong = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root)])
    assert wrong.exit_code == 1 and "口令无法打开" in wrong.output
    secret.write_text(PASSPHRASE + "\n")
    signed = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root)])
    assert signed.exit_code == 0 and "trust list" in signed.output


def test_at_a_terminal_the_cli_asks_for_the_passphrase(cli, tmp_path: Path, monkeypatch):
    from passtrace.cli import keys as keys_cli

    runner, app = cli
    monkeypatch.setattr(keys_cli, "_interactive", lambda: True)
    root = tmp_path / "root.pem"
    made = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root),
                               "--generate"], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    assert trust_root.is_encrypted(root)
    assert trust_root.load(root, PASSPHRASE.encode())
    again = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root)],
                          input=f"{PASSPHRASE}\n")
    assert again.exit_code == 0, again.output
    bad = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root)],
                        input="nope\n")
    assert bad.exit_code == 1


def test_rotate_list_needs_the_root_and_changes_nothing_without_it(cli, tmp_path: Path):
    runner, app = cli
    root = tmp_path / "root.pem"
    assert runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root),
                               "--generate"]).exit_code == 0
    before = runner.invoke(app, ["keys", "list"]).output
    missing = runner.invoke(app, ["keys", "rotate-list"])
    assert missing.exit_code == 2 and "--root-key" in missing.output
    absent = runner.invoke(app, ["keys", "rotate-list", "--root-key", str(tmp_path / "x")])
    assert absent.exit_code == 1
    assert runner.invoke(app, ["keys", "list"]).output == before
    done = runner.invoke(app, ["keys", "rotate-list", "--root-key", str(root)])
    assert done.exit_code == 0, done.output
    assert "new list key" in done.output and "trust list" in done.output
    listed = runner.invoke(app, ["keys", "list"]).output
    assert listed.count("list") >= 2 and "retired" in listed


def test_rotate_list_signs_a_trust_list_and_the_old_key_verifies_until_it_expires(
        session, rt, tmp_path: Path):
    root = trust_root.load_or_generate(tmp_path / "root.pem")
    trust_root.sign(session=session, vault=rt.vault, root=root, actor=None)
    old_key = keyring.list_signer(session=session, vault=rt.vault)
    old_list = _list_signed_by(old_key)
    before = _trusted(session)

    new = keyring.rotate_list(session=session, vault=rt.vault, actor=None,
                              overlap=timedelta(hours=24))
    trust_root.sign(session=session, vault=rt.vault, root=root, actor=None)
    session.commit()

    trust = _trusted(session)
    assert trust["version"] > before["version"]
    assert trust["revocation_key"]["kid"] == new.kid != old_key.kid.hex()
    [previous] = trust["previous_revocation_keys"]
    assert previous["kid"] == old_key.kid.hex()
    # The server signs revocation lists with the new key from now on.
    assert keyring.list_signer(session=session, vault=rt.vault).kid.hex() == new.kid
    now = int(datetime.now(UTC).timestamp())
    new_list = _list_signed_by(keyring.list_signer(session=session, vault=rt.vault))
    for doc in (old_list, new_list):
        key = revocation_key_for(doc, trust, now)
        assert verify_revocation_list(doc, key)["version"] == 1
    # Past the overlap the old key's lists are refused; so is a key the list never named.
    with pytest.raises(PassRejected):
        revocation_key_for(old_list, trust, previous["not_after"] + 1)
    with pytest.raises(PassRejected):
        revocation_key_for(_list_signed_by(SigningKey.generate("ES256")), trust, now)
    old_row = session.get(SigningKeyRecord, old_key.kid.hex())
    assert old_row is not None and old_row.status == "retired"
    assert session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "list", SigningKeyRecord.status == "active")).all() == [
        session.get(SigningKeyRecord, new.kid)]
    # Once the overlap is over, a new trust list drops the old key.
    assert keyring.previous_list_keys(
        session=session, now=datetime.now(UTC) + timedelta(hours=25)) == []
    assert base64.b64decode(previous["public_key_der_b64"]) == old_key.public_der()
