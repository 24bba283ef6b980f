"""`passtrace lake export`: the OLTP tables into a date-partitioned Parquet lake.

Layout: DIR/<table>/date=YYYY-MM-DD/part-0.parquet for the big tables (hive style,
the UTC date of the partition column), DIR/<table>/part-0.parquet for the small ones
(written whole), and DIR/_manifest.json.

Incremental: for every date the database is asked for (rows, change marker) in one
grouped query (docs/lake.md names the marker per table); a date is rewritten only when
that pair differs from the manifest's, and a date the database no longer holds
(retention deleted it) is removed. A small table is rewritten when the SHA-256 of its
content changed. So a re-run with nothing new writes nothing.

Each partition is written to a hidden directory and renamed into place, and the
manifest is replaced last: an interrupted export leaves the previous lake readable.

Dates are exported `workers` at a time, each on its own database connection: one COPY
keeps one PostgreSQL backend and one Arrow parser busy, and the two alternate (the
backend waits while the client parses and writes Parquet), so two streams use both
cores of a small server. The CSV parser and the Parquet writer release the GIL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from passtrace.analytics.lake.source import Source
from passtrace.analytics.lake.tables import SCHEMA_VERSION, TABLES, Table

MANIFEST = "_manifest.json"
PART = "part-0.parquet"


@dataclass
class Progress:
    """Callbacks the CLI turns into a Rich progress bar (no-ops by default)."""

    planned: Callable[[str, int], None] = lambda table, rows: None
    advanced: Callable[[str, int], None] = lambda table, rows: None


@dataclass
class Summary:
    written: dict[str, int] = field(default_factory=dict)  # table: rows written this run
    dates_written: dict[str, list[str]] = field(default_factory=dict)
    dates_removed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.written.values())


def load_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if path.exists():
        manifest: dict[str, Any] = json.loads(path.read_text())
        if manifest.get("schema_version") == SCHEMA_VERSION:
            return manifest
    # No lake, or one of another schema: everything is written again.
    return {"schema_version": SCHEMA_VERSION, "tables": {}}


def _write_parquet(path: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch],
                   on_rows: Callable[[int], None]) -> int:
    """Write batches to path through a hidden temporary file; the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    rows = 0
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch, row_group_size=1 << 20)
            rows += batch.num_rows
            on_rows(batch.num_rows)
    os.replace(tmp, path)
    return rows


def _write_partition(out: Path, table: Table, day: str, batches: Iterable[pa.RecordBatch],
                     on_rows: Callable[[int], None]) -> int:
    final = out / table.name / f"date={day}"
    staging = out / table.name / f".date={day}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    rows = _write_parquet(staging / PART, table.schema, batches, on_rows)
    old = out / table.name / f".date={day}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return rows


def _content_hash(tbl: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, tbl.schema) as writer:
        writer.write_table(tbl)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def export(source: Source, out: Path, *, since: date | None = None,
           progress: Progress | None = None, workers: int = 2) -> Summary:
    """Bring the lake at `out` up to date with the database (from `since` on), `workers`
    dates at a time (1 when the source is one connection: a caller's transaction)."""
    progress = progress or Progress()
    out.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out)
    summary = Summary()
    for table in TABLES:
        entry = manifest["tables"].setdefault(table.name, {})
        if table.partition_by is None:
            _export_snapshot(source, out, table, entry, summary, progress)
        else:
            _export_partitioned(source, out, table, entry, since, summary, progress,
                                workers=workers if source.parallel else 1)
    manifest["exported_at"] = datetime.now(UTC).isoformat()
    for entry in manifest["tables"].values():
        if "dates" in entry:
            entry["rows"] = sum(d["rows"] for d in entry["dates"].values())
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, out / MANIFEST)
    return summary


def _export_snapshot(source: Source, out: Path, table: Table, entry: dict[str, Any],
                     summary: Summary, progress: Progress) -> None:
    batches = list(source.batches(table))
    tbl = pa.Table.from_batches(batches, schema=table.schema)
    digest = _content_hash(tbl)
    path = out / table.name / PART
    if entry.get("sha256") == digest and path.exists():
        summary.written[table.name] = 0
        return
    progress.planned(table.name, tbl.num_rows)
    rows = _write_parquet(path, table.schema, tbl.to_batches(),
                          lambda n: progress.advanced(table.name, n))
    entry.update({"partitioned": False, "rows": rows, "sha256": digest})
    summary.written[table.name] = rows


def _export_partitioned(source: Source, out: Path, table: Table, entry: dict[str, Any],
                        since: date | None, summary: Summary, progress: Progress, *,
                        workers: int) -> None:
    entry["partitioned"] = True
    known: dict[str, dict[str, Any]] = entry.setdefault("dates", {})
    now = source.date_counts(table, since)
    changed = sorted(d for d, (rows, marker) in now.items()
                     if known.get(d) != {"rows": rows, "marker": marker}
                     or not (out / table.name / f"date={d}" / PART).exists())
    floor = since.isoformat() if since else ""
    gone = sorted(d for d in known if d >= floor and d not in now)
    progress.planned(table.name, sum(now[d][0] for d in changed))

    def one(day: str) -> int:
        return _write_partition(out, table, day,
                                source.batches(table, date.fromisoformat(day)),
                                lambda n: progress.advanced(table.name, n))

    written = 0
    # The manifest is only touched here, in this thread, as each date lands.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for day, rows_written in zip(changed, pool.map(one, changed), strict=True):
            written += rows_written
            rows, marker = now[day]
            known[day] = {"rows": rows, "marker": marker}
    for day in gone:
        shutil.rmtree(out / table.name / f"date={day}", ignore_errors=True)
        del known[day]
    summary.written[table.name] = written
    summary.dates_written[table.name] = changed
    summary.dates_removed[table.name] = gone
