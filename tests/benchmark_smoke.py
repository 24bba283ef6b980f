"""Running a benchmark script at a tiny size, for the smoke tests of benchmarks/*.py.

Each script prints one JSON object as its last line (DESIGN.md, "Benchmarks"); a smoke
test runs it in a subprocess, as a user would, and checks that line's figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, skip_or_fail

ROOT = Path(__file__).resolve().parents[1]


def postgres_up() -> None:
    """Skip (locally) or fail (CI) when no PostgreSQL answers: the benchmarks need it."""
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    finally:
        engine.dispose()


def run(script: str, *args: str, timeout: float,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """benchmarks/`script` with `args`, from the project root; it must exit 0."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def summary(script: str, *args: str, timeout: float,
            env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a benchmark (PostgreSQL up first) and return its last line's JSON object."""
    postgres_up()
    done = run(script, *args, timeout=timeout, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
