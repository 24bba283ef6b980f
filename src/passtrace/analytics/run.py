"""Running one job: connect an engine, build the expression, fetch, normalise, write."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from passtrace.analytics.engines import Lake, connect
from passtrace.analytics.lake.tables import UTC_TS
from passtrace.analytics.queries import JOBS, SORT_KEYS, Params
from passtrace.core.export import neutralise, safe_row


def normalise(table: pa.Table, sort_keys: list[str]) -> pa.Table:
    """One shape for both engines: UTC microsecond timestamps, sorted rows."""
    fields = []
    arrays = []
    for f, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(f.type):
            col = col.cast(pa.timestamp("us", tz=f.type.tz)) if f.type.tz else col.cast(
                pa.timestamp("us")).cast(UTC_TS)
            col = col.cast(UTC_TS)
        elif pa.types.is_integer(f.type):
            col = col.cast(pa.int64())
        elif pa.types.is_large_string(f.type):
            col = col.cast(pa.string())
        fields.append(pa.field(f.name, col.type))
        arrays.append(col)
    out = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    return out.sort_by([(k, "ascending") for k in sort_keys])


def run(job: str, lake_dir: Path, params: Params, *, engine: str = "duckdb",
        master: str | None = None, lake: Lake | None = None) -> pa.Table:
    """The job's result as an Arrow table (a Lake may be passed in to reuse a session)."""
    lake = lake or Lake(connect(engine, master), lake_dir)
    expr = JOBS[job](lake, params)
    return normalise(lake.con.to_pyarrow(expr), SORT_KEYS[job])


def write(table: pa.Table, out: Path) -> None:
    """Parquet or CSV by the file's suffix."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            # Formula-safe like every export (core/export): a text cell starting with
            # = + - @ or a tab/CR gets a leading apostrophe; numbers stay numbers.
            writer.writerow(safe_row(table.column_names))
            for row in table.to_pylist():
                writer.writerow([neutralise(_cell(v)) for v in row.values()])
    else:
        pq.write_table(table, out, compression="zstd")


def _cell(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value
