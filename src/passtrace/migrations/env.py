"""Alembic environment: runs against the connection handed in by passtrace.core.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from passtrace.models import Base
from passtrace.registrations.partitions import is_partition

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the connection in config.attributes (or the configured URL)."""
    connection = config.attributes.get("connection")
    if connection is None:
        from passtrace.core.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _run(conn)
        return
    _run(connection)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate compares the partitioned registrations table, not its day partitions
    (the job runner makes and drops those: registrations.partitions)."""
    return not (type_ == "table" and is_partition(name))


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; connect to a database")
run_migrations_online()
