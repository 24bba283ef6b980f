"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

Each test runs inside a transaction that is rolled back at the end (the app's
own commits become savepoints), so tests never see each other's rows.
Under CI=true a PostgreSQL or browser test that cannot run fails instead of
skipping: CI must never pass by testing less.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import hypothesis
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.app import create_app
from passtrace.areas import service as area_service
from passtrace.core import clock, migrate
from passtrace.core.config import Settings
from passtrace.core.db import make_engine
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.demo import demo_id_number
from passtrace.people import service as people_service
from passtrace.wiring import wire

# Tests call services directly too: plug the site kinds in as every entry point does.
wire()

# No per-example deadline (hypothesis's default is 200 ms): on CI's two shared cores a
# garbage collection or a neighbour's burst can stretch one example past it, and
# hypothesis then fails the test as "flaky" although nothing in it is wrong.
hypothesis.settings.register_profile("passtrace", deadline=None)
hypothesis.settings.load_profile("passtrace")

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("PASSTRACE_TEST_PG_ADMIN",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# One database per test run (pid in the name), so parallel runs never drop each other's.
PG_DB_STEM = "passtrace_test"
PG_DB = f"{PG_DB_STEM}_{os.getpid()}"
PASSWORD = "correct-horse-42"
# Committed-database fixtures for two-thread race tests (committed_rt, race()).
pytest_plugins = ["tests.concurrency"]


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI, where nothing may be skipped."""
    if IN_CI:
        pytest.fail(f"CI=true and this test cannot run: {reason}")
    pytest.skip(reason)


# Files test mode generates (the trust-list root key), one directory per run.
TEST_DATA_DIR = tempfile.mkdtemp(prefix="passtrace-data-")


def test_settings(url: str) -> Settings:
    """Settings for tests: cheap password hashing, fixed secrets."""
    return Settings(env="test", database_url=url, secret_key="test-secret-" + "x" * 32,
                    argon2_time_cost=1, argon2_memory_kib=64, login_max_failures=5,
                    data_dir=TEST_DATA_DIR)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_stale_databases(conn: Connection, stem: str) -> None:
    """Drop `<stem>_<pid>` databases whose run died: the name carries the dead run's pid."""
    names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                         {"p": f"{stem}_%"}).scalars()
    for name in list(names):
        pid = name.removeprefix(f"{stem}_")
        if pid.isdigit() and not _pid_alive(int(pid)):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _drop_own_database() -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
    finally:
        admin.dispose()


def _postgres_engine() -> Engine:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            drop_stale_databases(conn, PG_DB_STEM)
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {PG_DB}"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    finally:
        admin.dispose()
    return make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DB}")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated database with the reference areas, once per backend."""
    if request.param == "sqlite":
        tmp = tempfile.mkdtemp(prefix="passtrace-test-")
        engine = make_engine(f"sqlite:///{Path(tmp) / 'test.db'}")
    else:
        engine = _postgres_engine()
    migrate.upgrade(engine)
    with Session(engine) as session:
        area_service.load_bundled(session=session)
        session.commit()
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        _drop_own_database()


@pytest.fixture(autouse=True)
def _thaw_clock() -> Iterator[None]:
    """Whatever a test froze, the next test starts on the real clock."""
    yield
    clock.freeze(None)


@pytest.fixture
def clock_stopped() -> Iterator[datetime]:
    """Hold the clock at the real now for one test (the app, and a browser test's server,
    run in this process and read the same clock). A test that works out "today", an hour
    or who is overdue and then asks the app, which works it out again, gets the same
    answer even when it straddles midnight in China (16:00 UTC), an hour or a due time.
    Rows the test makes must take their times from `clock.utcnow()` too."""
    now = clock.utcnow()
    clock.freeze(now)
    yield now
    clock.freeze(None)


@pytest.fixture
def rt(db_engine: Engine) -> Iterator[Runtime]:
    """A runtime whose sessions live inside one rolled-back transaction."""
    connection = db_engine.connect()
    outer = connection.begin()
    runtime = Runtime.build(test_settings(str(db_engine.url)), engine=db_engine)
    wire(runtime)
    runtime.sessions = sessionmaker(bind=connection, expire_on_commit=False,
                                    join_transaction_mode="create_savepoint")
    yield runtime
    outer.rollback()
    connection.close()


@pytest.fixture
def session(rt: Runtime) -> Iterator[Session]:
    """A session in the test transaction (for arranging and checking data)."""
    s = rt.sessions()
    yield s
    s.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    """An HTTP client for the app on the test database."""
    with TestClient(create_app(runtime=rt)) as c:
        yield c


@dataclass
class Persona:
    """A test user with a way to call the API as them."""

    user: User
    principal: Principal
    headers: dict[str, str]


_seq = itertools.count()


def next_id_number() -> str:
    """A fresh, checksum-valid ID number for a test person (900 per birth date)."""
    n = next(_seq)
    birth = date(1961, 1, 1) + timedelta(days=n // 900)
    return demo_id_number("520102", birth.strftime("%Y%m%d"), f"{100 + n % 900}")


@pytest.fixture
def make_persona(rt: Runtime, session: Session, client: TestClient):  # type: ignore[no-untyped-def]
    """Create a user with one role (and a person record for residents) and log in."""

    def factory(role: str = "public", scope_type: str = "global", scope_value: str = "",
                name: str = "测试用户") -> Persona:
        username = f"u{uuid.uuid4().hex[:10]}"
        person_id = None
        if role == "public":
            person = people_service.register(
                session=session, vault=rt.vault, actor=None,
                id_number=next_id_number(), name=name,
                phone="13800000000")
            person_id = person.id
        user = account_service.create(session=session, rt=rt, actor=None, username=username,
                                      password=PASSWORD, display_name=name, person_id=person_id)
        account_service.grant(session=session, actor=None, user=user, role=role,
                              scope_type=scope_type, scope_value=scope_value)
        session.commit()
        resp = client.post("/api/v1/auth/token", json={"username": username,
                                                       "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        token = resp.json()["access_token"]
        return Persona(user=user, principal=account_service.principal_for(user),
                       headers={"Authorization": f"Bearer {token}"})

    return factory
