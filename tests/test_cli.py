"""The command line: demo seeding, keys, accounts, codec inspect."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from passtrace.cli.main import app

runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", url)
    monkeypatch.setenv("PASSTRACE_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("PASSTRACE_ARGON2_MEMORY_KIB", "64")
    return tmp_path / "cli.db"


def test_demo_seeds_a_fresh_database_and_prints_logins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "var" / "demo.db"
    result = runner.invoke(app, ["demo", "--no-serve", "--db", str(db), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    for username in ("admin", "official_nm", "checkpoint", "resident"):
        assert username in result.output
    with sqlite3.connect(db) as conn:
        roles = {r[0] for r in conn.execute("SELECT DISTINCT role FROM role_bindings")}
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM passes")}
    assert roles == {"admin", "official", "checkpoint_staff", "community_manager",
                     "enterprise_admin", "department_head", "supplies_officer", "public"}
    assert {"pending", "approved", "rejected", "revoked"} <= statuses
    # Running it again starts over rather than failing on existing users.
    again = runner.invoke(app, ["demo", "--no-serve", "--db", str(db)])
    assert again.exit_code == 0, again.output


def test_keys_rotate_and_list(sqlite_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["keys", "rotate", "--alg", "EdDSA"])
    assert first.exit_code == 0, first.output
    bad = runner.invoke(app, ["keys", "rotate", "--alg", "MD5"])
    assert bad.exit_code == 1
    listing = runner.invoke(app, ["keys", "list"])
    assert "EdDSA" in listing.output and "ES256" in listing.output


def test_accounts_create_and_grant(sqlite_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    created = runner.invoke(app, ["accounts", "create", "nm-official", "--name", "南明"],
                            input="a-long-password\na-long-password\n")
    assert created.exit_code == 0, created.output
    granted = runner.invoke(app, ["accounts", "grant", "nm-official", "official",
                                  "--area", "520102"])
    assert granted.exit_code == 0, granted.output
    unknown_role = runner.invoke(app, ["accounts", "grant", "nm-official", "emperor"])
    assert unknown_role.exit_code == 1
    with sqlite3.connect(sqlite_env) as conn:
        rows = list(conn.execute("SELECT role, scope_type, scope_value FROM role_bindings"))
    assert rows == [("official", "area", "520102")]


def test_codec_inspect_shows_the_claims_of_a_demo_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "demo.db"
    assert runner.invoke(app, ["demo", "--no-serve", "--db", str(db)]).exit_code == 0
    # A road pass with a plate (the demo also has thousands of household passes). Pass
    # texts are stored encrypted: read it the way its holder's page does.
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from passtrace.core.config import Settings
    from passtrace.core.runtime import Runtime
    from passtrace.passes import service as pass_service
    from passtrace.passes.models import Pass

    rt = Runtime.build(Settings(env="demo", database_url=f"sqlite:///{db}"))
    with Session(rt.engine) as session:
        p = session.scalars(select(Pass).where(Pass.status == "approved",
                                               Pass.plate.is_not(None))
                            .order_by(Pass.created_at)).first()
        token = pass_service.pass_text(vault=rt.vault, p=p)
    rt.engine.dispose()
    result = runner.invoke(app, ["codec", "inspect", token])
    assert result.exit_code == 0, result.output
    assert "贵A12345" in result.output or "贵AD12345" in result.output
    json.loads(result.output[result.output.index("{"):])


def test_community_overdue_runs_and_is_safe_to_rerun(sqlite_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["community", "overdue"])
    assert first.exit_code == 0, first.output
    assert "newly overdue residents: 0" in first.output
    missing = runner.invoke(app, ["community", "overdue", "--community", "520102006001"])
    assert missing.exit_code == 0, missing.output


def test_jobs_run_once_delivers_the_outbox_and_status_counts_it(sqlite_env, monkeypatch):
    from sqlalchemy.orm import Session

    from passtrace.core import outbox
    from passtrace.core.db import make_engine
    from tests.jobs.gateway import SECRET, Gateway, free_port

    gateway = Gateway(port=free_port())  # down for now
    monkeypatch.setenv("PASSTRACE_NOTIFY_WEBHOOK_URL", gateway.url)
    monkeypatch.setenv("PASSTRACE_GATEWAY_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("PASSTRACE_OUTBOX_BACKOFF_S", "0")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(f"sqlite:///{sqlite_env}")
    with Session(engine) as session:
        outbox.enqueue(session=session, channel="webhook", dedupe_key="cli:1", payload={})
        session.commit()
    engine.dispose()
    try:
        assert runner.invoke(app, ["jobs", "run", "--once"]).exit_code == 0
        status = runner.invoke(app, ["jobs", "status"])
        assert "pending: 1 (retrying: 1), sent: 0, failed: 0" in status.output
        gateway.start()
        assert runner.invoke(app, ["jobs", "run", "--once"]).exit_code == 0
        status = runner.invoke(app, ["jobs", "status"])
        assert "pending: 0 (retrying: 0), sent: 1, failed: 0" in status.output
        assert gateway.idempotency_keys() == ["cli:1"]
    finally:
        gateway.stop()


def test_web_workers_start_no_background_threads(sqlite_env):
    import threading

    from passtrace.cli.main import make_app

    before = {t.name for t in threading.enumerate()}
    make_app()
    started = {t.name for t in threading.enumerate()} - before
    assert not {"job-runner", "overdue-sweeper"} & started


def test_keys_revoke_drops_a_leaked_key_at_once(sqlite_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["keys", "rotate"]).exit_code == 0
    kid = sqlite3.connect(sqlite_env).execute(
        "SELECT kid FROM signing_keys WHERE purpose = 'pass' LIMIT 1").fetchone()[0]
    done = runner.invoke(app, ["keys", "revoke", kid, "--reason", "key leaked"])
    assert done.exit_code == 0, done.output
    assert "0 passes revoked" in done.output
    status = sqlite3.connect(sqlite_env).execute(
        "SELECT status FROM signing_keys WHERE kid = ?", (kid,)).fetchone()[0]
    assert status == "revoked"
    again = runner.invoke(app, ["keys", "revoke", kid, "--reason", "key leaked"])
    assert again.exit_code == 1


def test_accounts_revoke_role_deactivate_and_reset_password(sqlite_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["accounts", "create", "nm-guard", "--name", "守卫"],
                         input="gate-keeper-2026\ngate-keeper-2026\n").exit_code == 0
    assert runner.invoke(app, ["accounts", "grant", "nm-guard", "checkpoint_staff",
                               "--site", "S1"]).exit_code == 0
    wrong_scope = runner.invoke(app, ["accounts", "revoke-role", "nm-guard",
                                      "checkpoint_staff", "--site", "S2"])
    assert wrong_scope.exit_code == 1
    revoked = runner.invoke(app, ["accounts", "revoke-role", "nm-guard", "checkpoint_staff",
                                  "--site", "S1"])
    assert revoked.exit_code == 0, revoked.output
    assert runner.invoke(app, ["accounts", "deactivate", "nm-guard"]).exit_code == 0
    reset = runner.invoke(app, ["accounts", "reset-password", "nm-guard"])
    assert reset.exit_code == 0 and "shown once" in reset.output
    second = runner.invoke(app, ["accounts", "reset-second-factor", "nm-guard"])
    assert second.exit_code == 0, second.output
    assert runner.invoke(app, ["accounts", "reset-second-factor", "nobody"]).exit_code == 1
    with sqlite3.connect(sqlite_env) as conn:
        assert list(conn.execute("SELECT count(*) FROM role_bindings")) == [(0,)]
        assert list(conn.execute("SELECT is_active, must_change_password FROM users")) == [
            (0, 1)]
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_entries")]
    assert {"user.revoke_role", "user.deactivate", "user.password_reset",
            "user.second_factor_reset"} <= set(actions)


def test_accounts_create_refuses_a_common_password(sqlite_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    weak = runner.invoke(app, ["accounts", "create", "nm-weak"],
                         input="password123\npassword123\n")
    assert weak.exit_code == 1
