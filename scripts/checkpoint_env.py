"""A throwaway checkpoint deployment for the fault test and the ingest benchmark.

Creates (and drops) a PostgreSQL database or a SQLite file, migrates it, seeds
one site with staff on duty, residents with approved passes, and an API token;
starts and kills `python -m passtrace serve` as a subprocess in its own process
group. Loopback only. Used by tests/registrations/test_fault_sigkill.py,
scripts/fault_ingest.py and benchmarks/ingest.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

SITE = "CP-LOAD-01"
AREA = "520102"
SECRET = "checkpoint-env-secret-" + "x" * 32
PG_ADMIN_URL = os.environ.get("PASSTRACE_TEST_PG_ADMIN",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@dataclass
class Seeded:
    """What a client needs to register people at the seeded site."""

    site: str
    token: str
    pass_ids: list[str]
    pass_tokens: list[str]
    id_numbers: list[str]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_pg_database(name: str) -> str:
    """Create a fresh PostgreSQL database (dropping a stale one) and return its URL."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    """Drop a database made by create_pg_database (connections are forced out)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def settings_env(url: str) -> dict[str, str]:
    """Environment variables that point the server (and the seeder) at a database."""
    return {"PASSTRACE_DATABASE_URL": url, "PASSTRACE_ENV": "test",
            "PASSTRACE_SECRET_KEY": SECRET, "PASSTRACE_ARGON2_TIME_COST": "1",
            "PASSTRACE_ARGON2_MEMORY_KIB": "64",
            # Test mode generates the trust-root key here, not in the working tree.
            "PASSTRACE_DATA_DIR": str(Path(tempfile.gettempdir()) / "passtrace-checkpoint-data")}


def seed(url: str, *, residents: int = 20) -> Seeded:
    """Migrate the database and seed a site, its staff (with an API token) and passes."""
    from passtrace.accounts import service as account_service
    from passtrace.areas import service as area_service
    from passtrace.core import migrate
    from passtrace.core.config import Settings
    from passtrace.core.runtime import Runtime
    from passtrace.demo import demo_id_number
    from passtrace.passes import keyring
    from passtrace.passes import service as pass_service
    from passtrace.passes.schemas import PassCreate
    from passtrace.people import service as people_service
    from passtrace.sites import service as site_service
    from passtrace.sites.schemas import SiteWrite
    from passtrace.wiring import wire

    settings = Settings(**{k.removeprefix("PASSTRACE_").lower(): v
                           for k, v in settings_env(url).items()})
    rt = Runtime.build(settings)
    wire(rt)
    try:
        migrate.upgrade(rt.engine)
        with Session(rt.engine, expire_on_commit=False) as session:
            area_service.load_bundled(session=session)
            keyring.ensure(session=session, vault=rt.vault)

            def user(name: str, role: str, scope_type: str, scope_value: str,
                     person_id: uuid.UUID | None = None):  # type: ignore[no-untyped-def]
                u = account_service.create(session=session, rt=rt, actor=None, username=name,
                                           password="load-test-pw-1", display_name=name,
                                           person_id=person_id)
                account_service.grant(session=session, actor=None, user=u, role=role,
                                      scope_type=scope_type, scope_value=scope_value)
                return u

            official = account_service.principal_for(user("official1", "official", "area",
                                                          AREA))
            site_service.save(session=session, actor=official, data=SiteWrite(
                code=SITE, name="负载卡口", kind="road_checkpoint", area_code=AREA + "006",
                lanes=["1", "2"]))
            staff = user("staff1", "checkpoint_staff", "site", SITE)
            token, _ = account_service.start_session(session=session, rt=rt, user=staff,
                                                     kind="api", ip="127.0.0.1")
            now = datetime.now(UTC)
            pass_ids, pass_tokens, id_numbers = [], [], []
            for i in range(residents):
                id_number = demo_id_number(AREA, "19900101", f"{100 + i:03d}")
                person = people_service.register(session=session, vault=rt.vault, actor=None,
                                                 id_number=id_number, name="测试居民",
                                                 phone="13800000000")
                resident = account_service.principal_for(
                    user(f"resident{i}", "public", "global", "", person.id))
                p = pass_service.apply(session=session, rt=rt, actor=resident, data=PassCreate(
                    purpose="commute", reason="load test", valid_from=now - timedelta(hours=1),
                    valid_until=now + timedelta(days=3), areas=[AREA + "006"]))
                pass_service.approve(session=session, rt=rt, actor=official, pass_id=p.id)
                pass_ids.append(str(p.id))
                pass_tokens.append(pass_service.pass_text(vault=rt.vault, p=p) or "")
                id_numbers.append(id_number)
            session.commit()
        return Seeded(site=SITE, token=token, pass_ids=pass_ids, pass_tokens=pass_tokens,
                      id_numbers=id_numbers)
    finally:
        rt.engine.dispose()


@dataclass
class Server:
    """`python -m passtrace serve` in its own process group, restartable."""

    url: str
    port: int = field(default_factory=free_port)
    workers: int = 1
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers on its port."""
        env = os.environ | settings_env(self.url)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "passtrace", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers)],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if self.log:
                out.close()  # type: ignore[union-attr]
        self.starts += 1
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        """Poll until the app answers HTTP (a 401 on a guarded route is an answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} while starting")
            try:
                resp = httpx.get(self.base + "/api/v1/checkpoint/reasons", timeout=2.0)
                if resp.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"server not ready on {self.base} after {timeout}s")

    def kill(self) -> None:
        """SIGKILL the whole process group (uvicorn's supervisor and its workers)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill if it lingers."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        self.kill()


# --- measuring (the benchmarks) ---------------------------------------------------------

def package_version(name: str) -> str | None:
    """The installed version of a package (for the benchmark's JSON), if any."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def cpu_seconds(pgid: int | None = None, cmd_contains: str | None = None) -> float:
    """CPU time (user + system) of the processes in a group or whose command line matches.

    The machine is shared, so wall-clock rates are noisy; CPU time per request of
    the server (and of its PostgreSQL backends) is the figure that does not
    depend on what else runs.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if cmd_contains is not None and cmd_contains not in (
                    entry / "cmdline").read_bytes().decode(errors="replace"):
                continue
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if pgid is not None and int(fields[2]) != pgid:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) one process has used so far (OSError once it is gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu(session: Any) -> float | None:
    """CPU seconds a session's PostgreSQL backend has used so far (None if /proc is not
    ours: a database on another machine)."""
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    try:
        return process_cpu(pid)
    except OSError:
        return None


class CpuMeter:
    """CPU seconds used by the server, its database backends and this client."""

    def __init__(self, server: Server, db_name: str) -> None:
        self.server, self.db_name = server, db_name

    def sample(self) -> tuple[float, float, float]:
        assert self.server.proc is not None
        return (cpu_seconds(pgid=self.server.proc.pid), cpu_seconds(cmd_contains=self.db_name),
                time.process_time())

    @staticmethod
    def per_unit(before: tuple[float, float, float], after: tuple[float, float, float],
                 units: int, prefix: str, unit: str) -> dict[str, float]:
        names = ("server", "postgres", "client")
        return {f"{prefix}_{n}_cpu_ms_per_{unit}": round((a - b) * 1000 / units, 3)
                for n, b, a in zip(names, before, after, strict=True)}
