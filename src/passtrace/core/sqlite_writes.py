"""SQLite writers, one at a time per process: a write lock taken before a write begins.

SQLite has one writer at a time. Left to itself, a transaction begins deferred, reads,
and asks for the write lock at its first INSERT: if another connection committed since
it read, SQLite refuses at once (SQLITE_BUSY_SNAPSHOT; the busy timeout does not wait
for that), and the client got 503 "busy". Sixteen guards scanning at once saw that for
three requests in four.

So, within a process (the threads of a web worker, the job runner, the CLI):
- a transaction known to write (a POST, a registration, a job) begins with
  `BEGIN IMMEDIATE`, after taking the database file's process-wide lock: it reads
  nothing before it holds the write lock, so it never reads a stale snapshot and is
  never refused; the others wait their turn on the lock (no SQLite polling);
- any other transaction begins deferred (reads run beside the writer in WAL mode); at
  its first write it takes the same lock before the statement runs, so in-process
  writers still never contend inside SQLite. Such a transaction that read before
  another's commit is still refused as busy, as before: it read a stale snapshot.
  A GET/HEAD refused so (typically at its access-log write) is run again from the
  start, up to three times, by web/stale_reads; only then does the client get 503.
- the lock is released right after the COMMIT or ROLLBACK has run (not before, or the
  next writer would meet SQLite's lock instead of ours).

The lock belongs to the connection's transaction, not to a thread: FastAPI may open a
request's session in one worker thread and commit it in another. A wait is bounded by
the busy timeout; past it the caller gets SQLite's own "database is locked" (503). The
lock is never taken on the event loop: every route that touches the ORM runs in the
threadpool. Other processes (a second worker, `passtrace jobs run`) meet SQLite's own
lock and its busy timeout. PostgreSQL is untouched.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

# Execution option (on the connection) and session info key marking a writing transaction.
WRITE = "passtrace_write"
_HELD = "passtrace_write_lock_held"
# What takes SQLite's write lock (a statement's first word).
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def lock_for(database: str) -> threading.Lock:
    """The process-wide write lock of one database file."""
    with _locks_guard:
        return _locks.setdefault(database, threading.Lock())


class _Gate:
    """One engine's view of its file's lock, with the wait bound."""

    def __init__(self, database: str, timeout_s: float) -> None:
        self.lock = lock_for(database)
        self.timeout_s = timeout_s

    def acquire(self, info: dict[Any, Any]) -> None:
        if info.get(_HELD):
            return
        if not self.lock.acquire(timeout=self.timeout_s):
            # What SQLite says when its own busy timeout runs out: the client gets 503.
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
                "database is locked (waited for this process's writer)"))
        info[_HELD] = True

    def release(self, info: dict[Any, Any]) -> None:
        if info.pop(_HELD, False):
            self.lock.release()


def install(engine: Engine, database: str, *, timeout_s: float) -> None:
    """Serialise this engine's writers with every other engine of the process on the file."""
    gate = _Gate(database, timeout_s)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE):
            gate.acquire(conn.info)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                gate.release(conn.info)
                raise
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn: Any, _cursor: Any, statement: str, params: Any, _context: Any,
                      _many: bool) -> tuple[str, Any]:
        # A deferred transaction about to write: queue behind this process's writer.
        if not conn.info.get(_HELD) and conn.in_transaction() and _WRITES.match(statement):
            gate.acquire(conn.info)
        return statement, params

    def _end(conn: Any, finish: str) -> None:
        # Run the COMMIT/ROLLBACK now, then let the next writer in; SQLAlchemy's own
        # call that follows finds no transaction open and does nothing.
        if not conn.info.get(_HELD):
            return
        try:
            getattr(conn.connection.dbapi_connection, finish)()
        except sqlite3.Error as exc:  # wrapped as SQLAlchemy would (a busy one is a 503)
            raise DBAPIError.instance(finish.upper(), None, exc, sqlite3.Error) from exc
        finally:
            gate.release(conn.info)

    event.listen(engine, "commit", lambda conn: _end(conn, "commit"))
    event.listen(engine, "rollback", lambda conn: _end(conn, "rollback"))

    # A connection returned, reset or thrown away while holding the lock (it should
    # not happen: a transaction always ends in commit or rollback) must not keep it.
    def _drop(dbapi_conn: Any, record: Any, *_: Any) -> None:
        if record is not None and record.info.get(_HELD):
            with contextlib.suppress(sqlite3.Error):
                dbapi_conn.rollback()
            gate.release(record.info)

    event.listen(engine, "checkin", _drop)
    event.listen(engine, "invalidate", _drop)


def mark_writes(factory: sessionmaker[Session]) -> None:
    """Sessions opened with info={WRITE: True} begin IMMEDIATE on SQLite under the lock."""

    @event.listens_for(factory, "after_transaction_create")
    def _begin_writing(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None or not session.info.get(WRITE):
            return
        bind = session.get_bind()
        if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
            # Procure the connection now, with the option its "begin" event reads.
            session.connection(execution_options={WRITE: True})
