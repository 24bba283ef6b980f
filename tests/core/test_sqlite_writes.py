"""SQLite writers queue on one process-wide lock instead of being refused as busy."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from passtrace.core import sqlite_writes
from passtrace.core.db import make_engine, make_sessionmaker, writing


@pytest.fixture
def sqlite_file(tmp_path: Path) -> tuple[Engine, sessionmaker[Session], Path]:
    path = tmp_path / "writes.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine, make_sessionmaker(engine), path


def _bump(factory: sessionmaker[Session], *, write: bool) -> None:
    # A read-modify-write, as a registration does (read what is there, then insert).
    with factory(info=writing()) if write else factory() as session:
        n = session.execute(text("SELECT n FROM counter")).scalar_one()
        time.sleep(0.001)  # let another thread commit between the read and the write
        session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        session.commit()


def _hammer(factory: sessionmaker[Session], *, write: bool, threads: int = 8,
            each: int = 25) -> list[str]:
    errors: list[str] = []

    def work() -> None:
        for _ in range(each):
            try:
                _bump(factory, write=write)
            except Exception as exc:  # noqa: BLE001 - counted
                errors.append(str(exc))

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
    return errors


def test_writers_at_once_all_commit_and_lose_no_update(sqlite_file) -> None:  # type: ignore[no-untyped-def]
    engine, factory, path = sqlite_file
    assert _hammer(factory, write=True) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 8 * 25
    assert not sqlite_writes.lock_for(str(path.resolve())).locked()


def test_without_the_writer_mark_a_stale_reader_is_still_refused_never_let_through(
        sqlite_file) -> None:  # type: ignore[no-untyped-def]
    # The deferred path keeps SQLite's guarantee: a write on a stale read is refused
    # (busy), never applied; every committed bump counted.
    engine, factory, _ = sqlite_file
    errors = _hammer(factory, write=False)
    assert all("locked" in e or "busy" in e.lower() for e in errors)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 8 * 25 - len(errors)


def test_a_second_writer_waits_for_the_first_and_reads_its_commit(sqlite_file) -> None:  # type: ignore[no-untyped-def]
    engine, factory, path = sqlite_file
    first = factory(info=writing())
    first.execute(text("UPDATE counter SET n = 41"))
    seen: list[int] = []
    second = threading.Thread(target=lambda: seen.append(
        _read_then_bump(factory)))
    second.start()
    time.sleep(0.3)
    assert seen == []  # waiting for the lock, not refused
    # Readers are not held up by the writer (WAL).
    with factory() as reader:
        assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 0
    first.commit()
    first.close()
    second.join(timeout=30)
    assert seen == [41]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 42
    assert not sqlite_writes.lock_for(str(path.resolve())).locked()


def _read_then_bump(factory: sessionmaker[Session]) -> int:
    with factory(info=writing()) as session:
        n = session.execute(text("SELECT n FROM counter")).scalar_one()
        session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        session.commit()
        return int(n)


def test_a_rolled_back_or_closed_writer_lets_the_next_one_in(sqlite_file) -> None:  # type: ignore[no-untyped-def]
    _, factory, path = sqlite_file
    lock = sqlite_writes.lock_for(str(path.resolve()))
    with factory(info=writing()) as session:
        session.execute(text("UPDATE counter SET n = 5"))
        assert lock.locked()
        session.rollback()
        assert not lock.locked()
        session.execute(text("SELECT n FROM counter"))  # a new writer transaction
        assert lock.locked()
    assert not lock.locked()  # closed without commit: rolled back, released
    # A reader that writes takes the lock at its first write and gives it back.
    with factory() as session:
        session.execute(text("SELECT n FROM counter"))
        assert not lock.locked()
        session.execute(text("UPDATE counter SET n = 6"))
        assert lock.locked()
        session.commit()
    assert not lock.locked()


def test_two_engines_on_one_file_share_the_lock(sqlite_file) -> None:  # type: ignore[no-untyped-def]
    engine, factory, path = sqlite_file
    other = make_sessionmaker(make_engine(f"sqlite:///{path}"))
    with factory(info=writing()) as one:
        one.execute(text("UPDATE counter SET n = 1"))
        done = threading.Event()

        def write_from_other() -> None:
            with other(info=writing()) as two:
                two.execute(text("UPDATE counter SET n = n + 1"))
                two.commit()
            done.set()

        t = threading.Thread(target=write_from_other)
        t.start()
        assert not done.wait(0.3)
        one.commit()
    t.join(timeout=30)
    assert done.is_set()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 2


def test_a_writer_that_waits_too_long_is_told_busy_not_crashed(tmp_path: Path) -> None:
    # Past the wait bound the caller gets SQLite's own "database is locked" as a
    # SQLAlchemy OperationalError, which the web layer answers 503 "busy, retry".
    from sqlalchemy.exc import OperationalError

    path = tmp_path / "slow.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
    impatient = make_engine(f"sqlite:///{path}", busy_timeout_s=0.2)
    factory, other = make_sessionmaker(engine), make_sessionmaker(impatient)
    with factory(info=writing()) as holder:
        holder.execute(text("INSERT INTO counter VALUES (1)"))
        with other() as late, pytest.raises(OperationalError, match="locked"):
            late.execute(text("INSERT INTO counter VALUES (2)"))
        holder.commit()
    assert not sqlite_writes.lock_for(str(path.resolve())).locked()
