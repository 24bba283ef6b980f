"""Exporting dates two at a time (each on its own connection) writes the same lake as
one at a time: same dates, same rows, same manifest; on committed data, both databases
(SQLite exports one date at a time whatever is asked)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from passtrace.analytics.lake.export import export
from passtrace.analytics.lake.source import Source
from passtrace.core.runtime import Runtime
from tests.concurrency import committed_rt, committed_url, is_postgres  # noqa: F401
from tests.tracing import world
from tests.tracing.world import T0


def _rows(lake: Path, table: str) -> list[dict[str, object]]:
    return sorted(pq.read_table(lake / table).to_pylist(), key=lambda r: str(r["id"]))


def test_two_dates_at_a_time_write_the_same_lake(committed_rt: Runtime,  # noqa: F811
                                                 tmp_path: Path) -> None:
    with Session(committed_rt.engine) as session:
        site = world.site(session)
        for day in range(6):
            for k in range(40):
                world.reg(session, site, f"{k:064x}", T0 + timedelta(days=day, minutes=k))
        session.commit()
    source = Source(committed_rt.engine)
    assert source.parallel == is_postgres(committed_rt)

    serial = export(source, tmp_path / "serial", workers=1)
    parallel = export(source, tmp_path / "parallel", workers=2)
    assert parallel.written == serial.written and parallel.rows >= 240
    assert parallel.dates_written == serial.dates_written
    manifests = [json.loads((tmp_path / d / "_manifest.json").read_text())["tables"]
                 for d in ("serial", "parallel")]
    assert manifests[0] == manifests[1]
    assert _rows(tmp_path / "parallel", "registrations") == _rows(tmp_path / "serial",
                                                                  "registrations")
    # And a re-run of the parallel lake writes nothing.
    assert export(source, tmp_path / "parallel", workers=2).rows == 0
