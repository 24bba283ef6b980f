"""Reading lake tables out of the OLTP database, as Arrow batches, without loading a day.

PostgreSQL: COPY (SELECT ...) TO STDOUT as CSV, parsed by Arrow's streaming CSV reader
in C++ (no Python object per row: this is what makes the export ≥ 200k rows/s).
SQLite (demo and small deployments): a plain cursor fetched in batches.
Both yield batches in the table's final Arrow schema.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine

from passtrace.analytics.lake.tables import UTC_TS, Column, Table

BATCH_ROWS = 65_536


def _raw_type(col: Column, *, postgres: bool) -> pa.DataType:
    """The type a column arrives in before finish(): what the CSV or the cursor gives."""
    if col.kind == "ts":
        return pa.int64() if postgres else pa.string()
    if col.kind in ("uuid", "text", "reasons"):
        return pa.string()
    if col.kind == "bool":
        return pa.bool_() if postgres else pa.int64()
    if col.kind == "date":
        return pa.date32() if postgres else pa.string()
    return col.arrow_type


def _reasons(arr: pa.Array) -> pa.Array:
    """A JSON list of reason codes (text) as a list of strings: codes are [a-z_] only."""
    bare = pc.replace_substring_regex(arr, pattern=r'[\[\]" ]', replacement="")
    split = pc.split_pattern(bare, pattern=",")
    # "[]" splits into [""]: an empty list.
    return pc.if_else(pc.equal(bare, ""), pa.scalar([], pa.list_(pa.string())), split)


def finish(table: Table, batch: pa.RecordBatch) -> pa.RecordBatch:
    """A raw batch in the table's final schema (UTC timestamps, dates, booleans, lists)."""
    arrays = []
    for col, arr in zip(table.columns, batch.columns, strict=True):
        if col.kind == "ts":
            if pa.types.is_string(arr.type):  # SQLite: 'YYYY-MM-DD HH:MM:SS[.ffffff]', UTC
                arr = arr.cast(pa.timestamp("us"))
            arr = arr.cast(pa.timestamp("us")).cast(UTC_TS) if pa.types.is_timestamp(
                arr.type) else arr.cast(UTC_TS)
        elif col.kind == "reasons":
            arr = _reasons(arr)
        elif arr.type != col.arrow_type:
            arr = arr.cast(col.arrow_type)
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=table.schema)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    lo = datetime.combine(day, time(0), tzinfo=UTC)
    return lo, lo + timedelta(days=1)


class _ChunkReader(io.RawIOBase):
    """A file over an iterator of byte chunks (a COPY's output), for Arrow's CSV reader."""

    def __init__(self, chunks: Iterable[Any]) -> None:
        self._chunks = iter(chunks)
        self._view = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while not self._view:
            try:
                self._view = memoryview(bytes(next(self._chunks)))
            except StopIteration:
                return 0
        n = min(len(buf), len(self._view))
        buf[:n] = self._view[:n]
        self._view = self._view[n:]
        return n


class Source:
    """One OLTP database the lake is exported from."""

    def __init__(self, bind: Engine | Connection) -> None:
        # An Engine (the CLI: its own read connection) or a Connection (a caller's
        # transaction, e.g. the tests' rolled-back one).
        self.bind = bind
        self.postgres = bind.dialect.name == "postgresql"
        # Dates can be read at once only on connections of their own (an Engine);
        # SQLite's one writer and a small file gain nothing from it.
        self.parallel = isinstance(bind, Engine) and self.postgres

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if isinstance(self.bind, Connection):
            yield self.bind
        else:
            with self.bind.connect() as conn:
                yield conn

    # -- SQL pieces per dialect ------------------------------------------------------

    def _expr(self, col: Column) -> str:
        src = col.sql_source
        if self.postgres:
            if col.kind == "uuid":
                return f"({src})::text"
            if col.kind == "ts":
                # Integer microseconds: no timestamp text for Arrow to parse.
                return f"(extract(epoch from {src}) * 1000000)::int8"
            if col.kind == "reasons":
                return f"({src})::text"
            return src
        if col.kind == "uuid":  # stored as 32 hex digits: the canonical text form
            return (f"lower(substr({src},1,8)||'-'||substr({src},9,4)||'-'||"
                    f"substr({src},13,4)||'-'||substr({src},17,4)||'-'||substr({src},21))")
        return src

    def _day_expr(self, table: Table) -> str:
        col = table.partition_by
        assert col is not None
        if table.partition_is_date:
            return f"({col})" if self.postgres else f"substr({col},1,10)"
        return f"(({col}) AT TIME ZONE 'UTC')::date" if self.postgres else f"substr({col},1,10)"

    # -- queries ---------------------------------------------------------------------

    def date_counts(self, table: Table, since: date | None) -> dict[str, tuple[int, str]]:
        """{date: (rows, change marker)} for a partitioned table, dates from `since` on."""
        day = self._day_expr(table)
        marker = (f"CAST(({table.change_marker}) AS TEXT)" if table.change_marker else "''")
        where, params = self._since_clause(table, since)
        sql = (f"SELECT {day} AS d, count(*), {marker} FROM {table.source} {where} "
               f"GROUP BY 1")
        with self._connection() as conn:
            rows = conn.exec_driver_sql(sql, params).all()
        return {str(d): (int(n), str(m or "")) for d, n, m in rows}

    def _since_clause(self, table: Table, since: date | None) -> tuple[str, Any]:
        if since is None:
            return "", ()
        lo: Any = since if table.partition_is_date else _day_bounds(since)[0]
        if not self.postgres:
            lo = since.isoformat() if table.partition_is_date else lo.strftime(
                "%Y-%m-%d %H:%M:%S.%f")
            return f"WHERE {table.partition_by} >= ?", (lo,)
        return f"WHERE {table.partition_by} >= %s", (lo,)

    def _select(self, table: Table, day: date | None) -> tuple[str, tuple[Any, ...]]:
        cols = ", ".join(self._expr(c) for c in table.columns)
        sql = f"SELECT {cols} FROM {table.source}"
        if day is None:
            return sql, ()
        mark = "%s" if self.postgres else "?"
        if table.partition_is_date:
            value: Any = day if self.postgres else day.isoformat()
            return f"{sql} WHERE {table.partition_by} = {mark}", (value,)
        lo, hi = _day_bounds(day)
        if not self.postgres:
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            return (f"{sql} WHERE {table.partition_by} >= ? AND {table.partition_by} < ?",
                    (lo.strftime(fmt), hi.strftime(fmt)))
        return (f"{sql} WHERE {table.partition_by} >= %s AND {table.partition_by} < %s",
                (lo, hi))

    def batches(self, table: Table, day: date | None = None) -> Iterator[pa.RecordBatch]:
        """The table's rows (one date's, or all of a snapshot table) in its final schema."""
        sql, params = self._select(table, day)
        raw = (self._copy_batches(table, sql, params) if self.postgres
               else self._cursor_batches(table, sql, params))
        for batch in raw:
            if batch.num_rows:
                yield finish(table, batch)

    def _copy_batches(self, table: Table, sql: str,
                      params: tuple[Any, ...]) -> Iterator[pa.RecordBatch]:
        names = [c.name for c in table.columns]
        convert = pacsv.ConvertOptions(
            column_types={c.name: _raw_type(c, postgres=True) for c in table.columns},
            true_values=["t"], false_values=["f"], strings_can_be_null=True,
            quoted_strings_can_be_null=False)
        read = pacsv.ReadOptions(column_names=names, block_size=8 << 20)
        # Only the small snapshot tables carry text a person of the office typed (a
        # site's name) that might hold a newline; the big ones parse faster without.
        parse = pacsv.ParseOptions(newlines_in_values=table.partition_by is None)
        with self._connection() as conn:
            dbapi: Any = conn.connection.driver_connection
            copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
            with dbapi.cursor() as cur, cur.copy(copy_sql, params) as copy:
                stream = io.BufferedReader(_ChunkReader(copy), buffer_size=1 << 20)
                try:
                    reader = pacsv.open_csv(stream, read_options=read,
                                            parse_options=parse, convert_options=convert)
                except pa.ArrowInvalid:  # "Empty CSV file": no rows
                    for _ in copy:
                        pass
                    return
                yield from reader

    def _cursor_batches(self, table: Table, sql: str,
                        params: tuple[Any, ...]) -> Iterator[pa.RecordBatch]:
        types = [_raw_type(c, postgres=False) for c in table.columns]
        names = [c.name for c in table.columns]
        with self._connection() as conn:
            result = conn.exec_driver_sql(sql, params)
            while rows := result.fetchmany(BATCH_ROWS):
                cols = list(zip(*rows, strict=True))
                yield pa.RecordBatch.from_arrays(
                    [pa.array(v, type=t) for v, t in zip(cols, types, strict=True)],
                    names=names)
