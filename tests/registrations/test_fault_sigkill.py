"""Fault test: batches uploaded while the real server is SIGKILLed are stored exactly once.

Drives scripts/fault_ingest.py: a real `python -m passtrace serve` subprocess on a
fresh database (a PostgreSQL database created and dropped, or a SQLite file),
uploaders retrying each batch with the same ids until a 200, and a killer
thread sending SIGKILL to the server's process group 6 times at random moments,
restarting it each time. Loopback only; ~30 s per backend on a quiet machine
(restarts are waited for generously, so a loaded one takes longer but does not fail).

Besides ids, every stored field is compared with what was sent (direction, method,
occurred_at, temperature, lane, device, pass, holder's hash and masks, decisions),
and the checker itself is checked: the same run's database, corrupted the way a
broken server would write it, must be reported.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import create_engine, text, update

from tests.conftest import PG_ADMIN_URL, skip_or_fail

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _driver() -> ModuleType:
    sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location("fault_ingest", SCRIPTS / "fault_ingest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fault_ingest"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _postgres_reachable() -> None:
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_acknowledged_registrations_survive_sigkill_exactly_once(backend: str,
                                                                  tmp_path: Path) -> None:
    if backend == "postgresql":
        _postgres_reachable()
    driver = _driver()
    corrupted: dict[str, list[str]] = {}

    def break_rows(db_url: str, seeded, tally) -> None:  # type: ignore[no-untyped-def]
        # What a broken server would have stored: every row "in", one row feverish.
        from passtrace.registrations.models import Registration

        engine = create_engine(db_url)
        try:
            with engine.begin() as conn:
                conn.execute(update(Registration).values(direction="in"))
                one = conn.execute(text("SELECT id FROM registrations LIMIT 1")).scalar_one()
                conn.execute(update(Registration)
                             .where(Registration.id == uuid.UUID(str(one)))
                             .values(temperature=39.0))
        finally:
            engine.dispose()
        corrupted["problems"] = driver.check(db_url, seeded, tally)["problems"]

    summary = driver.run(backend, kills=6, seconds=25.0, uploaders=2, batch_size=300,
                         workdir=tmp_path, inspect=break_rows)
    print(json.dumps(summary))
    log = tmp_path / "server.log"
    assert summary["problems"] == [], (summary, log.read_text()[-3000:] if log.exists() else "")
    assert summary["kills"] == 6
    # The kills landed while batches were in flight: the clients had to retry.
    assert summary["retries"] > 0
    assert summary["acknowledged"] == summary["rows"] == summary["distinct_rows"] > 0
    # Every stored row was compared field by field with what was sent, and matched.
    assert summary["rows_compared"] == summary["rows"]
    # The comparison catches a server that stores the wrong content under the right ids.
    assert any("wrong direction" in p for p in corrupted["problems"]), corrupted
    assert any("wrong temperature" in p for p in corrupted["problems"]), corrupted
