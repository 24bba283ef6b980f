"""Engine, declarative base, column types and the per-request session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    MetaData,
    Uuid,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from passtrace.core import sqlite_writes
from passtrace.core.clock import utcnow
from passtrace.core.ids import uuid7

_T = TypeVar("_T")

# Stable constraint names so Alembic migrations are the same on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Store timezone-aware UTC; SQLite hands back naive values, so re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON,
        dict[str, int]: JSON,
        list[str]: JSON,
    }


class IdMixin:
    """A time-ordered UUIDv7 primary key."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)


class CreatedMixin:
    """When the row was created."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)


SQLITE_BUSY_TIMEOUT_S = 30.0


def make_engine(url: str, *, echo: bool = False,
                busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and one writer
    at a time per process (core/sqlite_writes)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={
            "check_same_thread": False, "timeout": busy_timeout_s})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin:
            # otherwise SAVEPOINTs (nested transactions) silently commit.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # BEGIN (deferred) or BEGIN IMMEDIATE under the file's process-wide write lock.
        database = engine.url.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(engine.url):
            database = f":memory:{id(engine)}"  # a private database: its own lock
        else:
            database = os.path.realpath(database)
        sqlite_writes.install(engine, database, timeout_s=busy_timeout_s)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # 20 kept open (a busy worker has that many requests in flight: fewer would mean a
    # new connection per request beyond them), at most 30 as before. No pre-ping (a
    # round trip on every checkout): connections are recycled after half an hour
    # instead, and one that died meanwhile fails its request once and is discarded.
    return create_engine(url, echo=echo, pool_size=20, max_overflow=10, pool_recycle=1800)


def lock_row(session: Session, model: type[Any], row_id: Any) -> None:
    """Hold one row until commit.

    For read-modify-writes: whoever locks second waits (PostgreSQL) or is refused
    (SQLite) instead of computing from a value the first is about to change.
    PostgreSQL: SELECT ... FOR UPDATE (a row lock, nothing written). SQLite ignores
    FOR UPDATE, so there a no-op UPDATE takes the database's write lock early; a
    second writer then gets "database is locked" (503, retry) rather than a stale read.
    """
    pk = model.__mapper__.primary_key[0]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(pk).where(pk == row_id).with_for_update())
    else:
        session.execute(update(model.__table__).where(pk == row_id)
                        .values({pk.name: pk}))


def locked(session: Session, model: type[_T], row_id: Any) -> _T | None:
    """lock_row, then the row read after the lock (None if it is gone).

    populate_existing: an object already in the session must not keep the values
    read before the lock, or the caller would still compute from a stale copy.
    """
    lock_row(session, model, row_id)
    return session.get(model, row_id, populate_existing=True)


def serialize(session: Session, name: str) -> None:
    """Make transactions that call this with the same name run their writes one at a time.

    For what has no single row to lock (a sequence whose readers need commits in
    order, a set of keys). PostgreSQL: a transaction-scoped advisory lock, released at
    commit or rollback. SQLite: nothing to do, since it has one writer at a time: the
    caller's next write takes the database's write lock and holds it until commit, and
    a writer that read before another's commit is refused (busy) rather than let
    through on a stale read.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Build the session factory; objects stay readable after commit.

    A session opened with `info=writing()` is a writer: on SQLite it begins IMMEDIATE
    under the process's write lock (core/sqlite_writes); elsewhere nothing changes.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
    sqlite_writes.mark_writes(factory)
    return factory


def writing() -> dict[str, Any]:
    """Session info for a transaction that will write (a POST, a registration, a job)."""
    return {sqlite_writes.WRITE: True}


def session_scope(factory: sessionmaker[Session], *,
                  write: bool = False) -> Iterator[Session]:
    """Yield one session: commit at the boundary, roll back on any error.

    write=True: the transaction will write; on SQLite it takes the write lock first.
    """
    session = factory(info=writing()) if write else factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def own_connections(sessions: sessionmaker[Session]) -> bool:
    """Whether `sessions` are PostgreSQL sessions on connections of their own (a pool),
    so work split in parts can run at once: SQLite has one writer at a time, and
    sessions sharing one connection (the tests' rolled-back runtime) cannot run side by
    side."""
    with sessions() as probe:
        bind = probe.get_bind()
        return isinstance(bind, Engine) and bind.dialect.name == "postgresql"


def dialect_insert(session: Session) -> Any:
    """This database's INSERT (PostgreSQL's or SQLite's), which has on_conflict_do_nothing:
    the one-statement way to write a row unless its unique key exists already."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert

