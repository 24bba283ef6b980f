"""The trust-root private key stays out of the database and out of the server: a file
signs trust lists, the server publishes the newest one, and an upgrade moves an old
deployment's root key from the database to a file."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from passtrace.app import create_app
from passtrace.codec import SigningKey, verify_revocation_list, verify_trust_list
from passtrace.core.config import Settings
from passtrace.core.runtime import Runtime
from passtrace.passes import keyring, trust_root
from passtrace.passes.models import SigningKeyRecord, TrustListRecord
from passtrace.wiring import wire


def _public(entry):  # type: ignore[no-untyped-def]
    return load_der_public_key(base64.b64decode(entry["public_key_der_b64"]))


@pytest.fixture
def server_rt(rt: Runtime) -> Runtime:
    """The runtime of a real deployment's server: no root key file anywhere."""
    settings = Settings(env="dev", database_url=rt.settings.database_url,
                        secret_key=rt.settings.secret_key, argon2_time_cost=1,
                        argon2_memory_kib=64)
    assert settings.trust_root_path is None and not settings.signs_trust_lists_itself
    server = Runtime.build(settings, engine=rt.engine)
    wire(server)
    server.sessions = rt.sessions
    return server


def test_the_server_publishes_what_the_root_file_signed_and_never_holds_it(
        server_rt, session, tmp_path: Path):
    with TestClient(create_app(runtime=server_rt)) as client:
        # Nothing signed yet: a clear 503, not a key made up on the spot.
        resp = client.get("/api/v1/passes/trust-list")
        assert resp.status_code == 503, resp.text
        assert "sign-trust-list" in resp.json()["error"]["message"]

        root = trust_root.load_or_generate(tmp_path / "root.pem")  # the operator's command
        trust_root.sign(session=session, vault=server_rt.vault, root=root, actor=None)
        session.commit()

        pinned = client.get("/api/v1/passes/trust-root").json()
        assert pinned["kid"] == root.kid.hex()
        listing = client.get("/api/v1/passes/trust-list").json()
        verified = verify_trust_list(listing["signed"], _public(pinned))
        assert verified["keys"] and verified["revocation_key"] is not None
        # Revocation lists are signed online by the list key the root certified.
        rl = client.get("/api/v1/passes/revocations?since=0").json()
        assert verify_revocation_list(rl["signed"], _public(verified["revocation_key"]))

        # A rotation on the server side: the published list stays what the root signed
        # (the server cannot sign one) until the operator signs again.
        keyring.rotate(session=session, vault=server_rt.vault, actor=None)
        session.commit()
        assert client.get("/api/v1/passes/trust-list").json()["version"] == listing["version"]
        assert trust_root.is_stale(session=session, record=trust_root.newest(session=session))
        trust_root.sign(session=session, vault=server_rt.vault, root=root, actor=None)
        session.commit()
        newer = verify_trust_list(client.get("/api/v1/passes/trust-list").json()["signed"],
                                  _public(pinned))
        assert len(newer["keys"]) == len(verified["keys"]) + 1
    # The database holds no root key at all, not even wrapped.
    purposes = set(session.scalars(select(SigningKeyRecord.purpose)))
    assert purposes == {"pass", "list"}


def test_a_list_signed_by_another_root_is_refused(session, rt, tmp_path: Path):
    trust_root.sign(session=session, vault=rt.vault,
                    root=trust_root.load_or_generate(tmp_path / "a.pem"), actor=None)
    with pytest.raises(Exception, match="not the trust-root key"):
        trust_root.sign(session=session, vault=rt.vault,
                        root=trust_root.load_or_generate(tmp_path / "b.pem"), actor=None)


def test_export_root_moves_an_old_deployments_root_key_to_a_file(session, rt, tmp_path: Path):
    # As an earlier release left it: the root key wrapped in signing_keys.
    old_root = SigningKey.generate("ES256")
    kid = old_root.kid.hex()
    session.add(SigningKeyRecord(
        kid=kid, alg="ES256", purpose="root", public_der=old_root.public_der(),
        private_enc=rt.vault.wrap(old_root.private_pem().decode(),
                                  ad=SigningKeyRecord.pii_ad_for("private_enc", {"kid": kid})),
        status="active"))
    keyring.ensure(session=session, vault=rt.vault)
    session.commit()

    target = tmp_path / "keys" / "trust-root.pem"
    trust_root.export_from_database(session=session, vault=rt.vault, path=target, actor=None)
    session.commit()

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert trust_root.load(target).kid == old_root.kid  # the same key checkpoints pinned
    assert session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "root")).all() == []
    record = session.scalars(select(TrustListRecord)).one()
    assert verify_trust_list(record.listing["signed"], old_root.public_key())
    # Running it again: nothing left to export, and the file is never overwritten.
    with pytest.raises(Exception, match="no trust-root key"):
        trust_root.export_from_database(session=session, vault=rt.vault, path=target,
                                        actor=None)


def test_cli_sign_trust_list_needs_the_root_file(tmp_path: Path, monkeypatch):
    from passtrace.cli.main import app

    monkeypatch.setenv("PASSTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    missing = runner.invoke(app, ["keys", "sign-trust-list"])
    assert missing.exit_code == 2 and "--root-key" in missing.output
    root = tmp_path / "root.pem"
    absent = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root)])
    assert absent.exit_code == 1 and "没有信任根密钥文件" in absent.output
    first = runner.invoke(app, ["keys", "sign-trust-list", "--root-key", str(root),
                                "--generate"])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(root.stat().st_mode) == 0o600
    rotated = runner.invoke(app, ["keys", "rotate", "--root-key", str(root)])
    assert rotated.exit_code == 0 and "trust list" in rotated.output
    unsigned = runner.invoke(app, ["keys", "rotate"])
    assert "sign-trust-list" in unsigned.output
