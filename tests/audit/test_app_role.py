"""PostgreSQL: the application's role can append to and read the audit log, nothing more."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passtrace.audit import service as audit_service
from passtrace.audit import verify as chain_verify
from passtrace.cli.main import app as cli
from passtrace.core import migrate
from passtrace.core.db import make_engine
from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def app_role(fresh_url):  # type: ignore[no-untyped-def]
    if not fresh_url.startswith("postgresql"):
        pytest.skip("database roles are a PostgreSQL feature (see docs/security.md for SQLite)")
    role = f"passtrace_app_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    yield role
    admin.dispose()


def _drop_role(role: str, url: str) -> None:
    # The role's grants live in the test database, dropped by fresh_url afterwards.
    owner = make_engine(url)
    with owner.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
    owner.dispose()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


def test_the_app_role_appends_and_reads_but_cannot_erase(fresh_url, app_role, monkeypatch):
    owner = make_engine(fresh_url)
    migrate.upgrade(owner)
    owner.dispose()
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", fresh_url)
    granted = CliRunner().invoke(cli, ["db", "grant-app-role", app_role])
    assert granted.exit_code == 0, granted.output
    app_url = make_url(fresh_url).set(username=app_role).render_as_string(hide_password=False)
    app = make_engine(app_url)
    try:
        with Session(app) as s:  # INSERT and SELECT work, and the chain grows
            audit_service.record(session=s, actor=None, action="test.app", resource_type="t")
            s.commit()
            assert chain_verify.verify(session=s).checked == 1
            # other tables: fine
            s.execute(text("UPDATE users SET display_name = display_name WHERE false"))
        for statement in ("TRUNCATE audit_entries", "UPDATE audit_entries SET reason = 'x'",
                          "DELETE FROM audit_entries",
                          "ALTER TABLE audit_entries DISABLE TRIGGER USER",
                          "DROP TRIGGER audit_entries_append_only ON audit_entries"):
            with app.connect() as conn, pytest.raises(DBAPIError) as refused:
                conn.execute(text(statement))
            message = str(refused.value)
            assert "permission denied" in message or "must be owner" in message, statement
        with Session(app) as s:
            assert chain_verify.verify(session=s).checked == 1
    finally:
        app.dispose()
        _drop_role(app_role, fresh_url)


def test_granting_refuses_the_owner_and_unknown_roles(fresh_url, monkeypatch):
    if not fresh_url.startswith("postgresql"):
        pytest.skip("database roles are a PostgreSQL feature")
    owner = make_engine(fresh_url)
    migrate.upgrade(owner)
    owner.dispose()
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", fresh_url)
    # The CLI speaks the default locale (Chinese).
    for role, says in (("postgres", "超级用户"), ("no_such_role_x", "请先创建")):
        result = CliRunner().invoke(cli, ["db", "grant-app-role", role])
        assert result.exit_code == 1 and says in result.output, result.output


def test_sqlite_has_no_roles_and_says_so(fresh_url, monkeypatch):
    if not fresh_url.startswith("sqlite"):
        pytest.skip("the PostgreSQL case is above")
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", fresh_url)
    result = CliRunner().invoke(cli, ["db", "grant-app-role", "anyone"])
    assert result.exit_code == 1 and "仅在 PostgreSQL" in result.output, result.output
