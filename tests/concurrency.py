"""Two-thread race tests: committed data, one connection and transaction per thread.

A race needs two real transactions, so these tests cannot use the rolled-back `rt`
fixture (its sessions share one connection). `committed_rt` is a runtime on a
database of its own per backend (SQLite and PostgreSQL, created once per test run,
dropped at its end) whose sessions really commit; tests there use fresh names
(`tag()`) instead of cleaning up. `race()` runs callables in threads released
together, each in its own session, and reports what each one ended with.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.app import create_app
from passtrace.areas import service as area_service
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.schemas import CommunityCreate
from passtrace.core import migrate
from passtrace.core.errors import DomainError
from passtrace.core.runtime import Runtime
from passtrace.passes import keyring
from passtrace.sites import service as site_service
from passtrace.sites.schemas import SiteWrite
from tests.conftest import PASSWORD, PG_ADMIN_URL, skip_or_fail, test_settings

RACE_DB_STEM = "passtrace_race"

# Creating and dropping a PostgreSQL database of our own: the one way the benchmarks do it
# too (`own_database` below serves every committed-data test).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import checkpoint_env  # noqa: E402


@contextmanager
def own_database(kind: str, stem: str) -> Iterator[Runtime]:
    """A migrated database of the caller's own ("postgresql" or "sqlite"), the bundled
    areas and a signing key loaded and committed; a PostgreSQL one is dropped afterwards.

    For tests whose transactions must really commit (races, fast paths on connections
    of their own), which the rolled-back `rt` fixture cannot give.
    """
    name = f"{stem}_{uuid.uuid4().hex[:8]}"
    if kind == "postgresql":
        try:
            url = checkpoint_env.create_pg_database(name)
        except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
            skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'{stem}-')) / 'committed.db'}"
    rt = Runtime.build(test_settings(url))
    try:
        migrate.upgrade(rt.engine)
        with Session(rt.engine) as session:
            area_service.load_bundled(session=session)
            keyring.ensure(session=session, vault=rt.vault)
            session.commit()
        yield rt
    finally:
        rt.engine.dispose()
        if kind == "postgresql":
            checkpoint_env.drop_pg_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def committed_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database (areas and a signing key loaded) for committed race tests."""
    with own_database(request.param, RACE_DB_STEM) as rt:
        url = rt.settings.database_url
        rt.engine.dispose()
        yield url


def compound_with_gates(session: Session, rt: Runtime, *, code: str, name: str,
                        gates: Sequence[str], area_code: str = "520102006") -> Any:
    """A global administrator, and a compound with `gates` and one building ("1", unit
    "1") made by them, in `session` (not committed). Returns the administrator's principal."""
    admin = account_service.create(session=session, rt=rt, actor=None, username="admin",
                                   password=PASSWORD, display_name="admin")
    account_service.grant(session=session, actor=None, user=admin, role="admin",
                          scope_type="global", scope_value="")
    actor = account_service.principal_for(admin)
    community_service.create(session=session, actor=actor,
                             data=CommunityCreate(code=code, name=name))
    for gate in gates:
        site_service.save(session=session, actor=actor, data=SiteWrite(
            code=gate, name=gate, kind="community_gate", area_code=area_code,
            community_code=code))
    community_service.add_building(session=session, actor=actor, code=code, name="1",
                                   units=["1"])
    return actor


@pytest.fixture
def committed_rt(committed_url: str) -> Iterator[Runtime]:
    """A runtime whose sessions commit for real (each thread gets its own connection)."""
    rt = Runtime.build(test_settings(committed_url))
    yield rt
    rt.engine.dispose()


@pytest.fixture
def committed_client(committed_rt: Runtime) -> Iterator[TestClient]:
    """An HTTP client on the committed database (for arranging data through the API)."""
    with TestClient(create_app(runtime=committed_rt)) as c:
        yield c


def tag() -> str:
    """A fresh suffix for names, so tests sharing the committed database never collide."""
    return uuid.uuid4().hex[:10]


@dataclass
class CommittedPersona:
    """A committed user with one role: a principal for services, headers for the API."""

    user_id: uuid.UUID
    principal: Any
    headers: dict[str, str]


def committed_persona(rt: Runtime, client: TestClient, role: str = "public",
                      scope_type: str = "global", scope_value: str = "",
                      person_id: uuid.UUID | None = None) -> CommittedPersona:
    """Create and commit a user with one role binding, and log in."""
    username = f"race-{tag()}"
    with rt.sessions() as session:
        user = account_service.create(session=session, rt=rt, actor=None, username=username,
                                      password=PASSWORD, display_name="竞争测试",
                                      person_id=person_id)
        account_service.grant(session=session, actor=None, user=user, role=role,
                              scope_type=scope_type, scope_value=scope_value)
        session.commit()
        principal = account_service.principal_for(user)
    resp = client.post("/api/v1/auth/token", json={"username": username,
                                                   "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return CommittedPersona(user.id, principal,
                            {"Authorization": f"Bearer {resp.json()['access_token']}"})


def race(rt: Runtime, *calls: Callable[[Session], object],
         before: Callable[[Session], object] | None = None) -> list[str]:
    """Run each call in its own thread and transaction, released at the same moment.

    `before` runs in each session first (what the request reads before the race, so
    both transactions are already open). Each outcome is "ok" (the call returned and
    its transaction committed), "busy" (SQLite refused a second writer: the client
    gets 503 and retries), the DomainError's class name, or "error: ..." for anything
    else, in the order of `calls`.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = ["not run"] * len(calls)

    def run(i: int, call: Callable[[Session], object]) -> None:
        with rt.sessions() as session:
            try:
                if before is not None:
                    before(session)
                barrier.wait(timeout=30)
                call(session)
                session.commit()
                outcomes[i] = "ok"
            except DomainError as exc:
                session.rollback()
                outcomes[i] = type(exc).__name__
            except OperationalError as exc:
                session.rollback()
                outcomes[i] = "busy" if "locked" in str(exc) else f"error: {exc!r}"
            except Exception as exc:  # noqa: BLE001 - recorded; the test's assertion shows it
                session.rollback()
                outcomes[i] = f"error: {exc!r}"

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def is_postgres(rt: Runtime) -> bool:
    """Whether the runtime's database is PostgreSQL (the loser waits there, SQLite refuses)."""
    return rt.engine.dialect.name == "postgresql"
