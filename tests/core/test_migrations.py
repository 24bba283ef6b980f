"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from passtrace.core.migrate import alembic_config
from passtrace.models import Base
from passtrace.registrations.partitions import is_partition


def test_the_migrations_form_one_line():
    """Two branches that each add a migration after the same head leave two heads, and
    `upgrade head` then refuses to run: a deployment would not start."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, script.get_heads()


def test_migrations_match_the_models(db_engine):
    with db_engine.connect() as conn:
        # The day partitions of registrations are the job runner's, not the models'.
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, type_, _: not (type_ == "table" and is_partition(name))})
        assert compare_metadata(ctx, Base.metadata) == []


def test_the_audit_log_is_append_only(rt, session):
    from passtrace.audit import service as audit_service

    audit_service.record(session=session, actor=None, action="test.event",
                         resource_type="test")
    session.flush()
    for statement in ("UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"):
        nested = session.begin_nested()
        try:
            session.execute(text(statement))
        except DBAPIError as exc:
            assert "append-only" in str(exc)
            nested.rollback()
        else:
            raise AssertionError(f"{statement} was allowed")
