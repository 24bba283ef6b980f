"""Every job on Spark local[2], for real: the known answers, and the same rows as DuckDB
on a generated lake.

One test on purpose: a SparkSession takes 7 s (over a minute on a loaded machine) and
~1.5 GB to start, and pytest-xdist would start one per worker if the checks were spread
over several tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from passtrace.analytics import run as runner
from passtrace.analytics.engines import Lake, connect
from passtrace.analytics.queries import JOBS, Params

from . import known
from .lakes import day, generated

pytest.importorskip("pyspark")


def test_spark_gives_the_known_answers_and_agrees_with_duckdb(tmp_path: Path) -> None:
    spark = connect("spark", "local[2]")
    hand = known.build(tmp_path / "hand")
    lake = Lake(spark, hand)
    failures = []
    for job, (params, expected) in known.CASES.items():
        got = runner.run(known.job_of(job), hand, params, lake=lake).to_pylist()
        if got != expected:
            failures.append((job, got))
    rows = runner.run("site-load", hand, known.SITE_LOAD_PARAMS, lake=lake).to_pylist()
    if not all(r in rows for r in known.SITE_LOAD_ROWS) or len(rows) != 10:
        failures.append(("site-load", rows))
    assert failures == []

    gen = generated(tmp_path / "gen", people=200, days=3)
    hashes = tuple(f"{p:064x}" for p in range(1, 6))
    params = Params(day_from=day(10), day_to=day(12), person_hashes=hashes,
                    window_minutes=30, area_codes=("110102", "1201"))
    spark_lake = Lake(spark, gen)
    duck_lake = Lake(connect("duckdb"), gen)
    for job in JOBS:
        on_spark = runner.run(job, gen, params, lake=spark_lake)
        on_duckdb = runner.run(job, gen, params, lake=duck_lake)
        assert on_spark.num_rows > 0, job  # the lake is built so every job finds something
        assert on_spark.to_pylist() == on_duckdb.to_pylist(), job
