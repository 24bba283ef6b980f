"""The two engines one Ibis expression runs on, and the lake's tables on each.

DuckDB is embedded (no server); Spark runs local[*] or on a cluster (--master). Both
sessions are set to UTC: the lake's timestamps are UTC and an hour or a date must be
cut the same way on both (NOTES.md: the engines can differ on timestamps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from passtrace.analytics.lake.tables import BY_NAME

ENGINES = ("duckdb", "spark")


def spark_session(master: str | None = None) -> Any:
    """The process's SparkSession (started once: ~7 s and ~1.5 GB on local[2])."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.appName("passtrace-analytics")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               # Small shuffles: the default 200 partitions cost more than the work.
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.driver.memory", "1g"))
    if master:
        builder = builder.master(master)
    elif not _has_master():
        builder = builder.master("local[*]")
    return builder.getOrCreate()


def _has_master() -> bool:
    """spark-submit sets the master for us (spark.master in the launcher's conf)."""
    import os

    return "SPARK_SUBMIT_OPTS" in os.environ or "PYSPARK_GATEWAY_PORT" in os.environ


def connect(engine: str, master: str | None = None) -> ibis.BaseBackend:
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(master))
    raise ValueError(f"engine is one of {ENGINES}")


class Lake:
    """The lake's tables as Ibis tables on one backend."""

    def __init__(self, con: ibis.BaseBackend, path: Path) -> None:
        self.con = con
        self.path = Path(path)
        self.engine = con.name
        self._tables: dict[str, ibis.Table] = {}

    def table(self, name: str) -> ibis.Table:
        if name not in self._tables:
            self._tables[name] = self._load(name)
        return self._tables[name]

    def _load(self, name: str) -> ibis.Table:
        spec = BY_NAME[name]
        base = self.path / name
        con: Any = self.con
        table_name = f"lake_{name}"
        if spec.partition_by is None:
            files = [base / "part-0.parquet"] if (base / "part-0.parquet").exists() else []
            if files:
                return con.read_parquet(str(files[0]), table_name=table_name)
            return self._empty(spec.schema, table_name, partitioned=False)
        if not list(base.glob("date=*/part-0.parquet")):
            return self._empty(spec.schema, table_name, partitioned=True)
        if self.engine == "duckdb":
            return con.read_parquet(str(base / "date=*" / "*.parquet"), table_name=table_name,
                                    hive_partitioning=True)
        # Spark discovers date=... partitions itself (and skips the hidden .tmp ones).
        return con.read_parquet(str(base), table_name=table_name)

    def _empty(self, schema: pa.Schema, table_name: str, *, partitioned: bool) -> ibis.Table:
        del table_name
        if partitioned:
            schema = schema.append(pa.field("date", pa.date32()))
        return ibis.memtable(schema.empty_table())
