"""`passtrace analytics JOB` on DuckDB: the result file, and bad input refused cleanly."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from passtrace.cli.main import app

from . import known


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return known.build(tmp_path_factory.mktemp("lake"))


def test_companions_to_parquet_and_flows_to_csv(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.parquet"
    res = CliRunner().invoke(app, ["analytics", "companions", "--lake", str(lake),
                                   "--from", "2026-11-02", "--to", "2026-11-03",
                                   "--case", known.CASE, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pq.read_table(out).to_pylist() == known.CASES["companions"][1]
    out = tmp_path / "f.csv"
    res = CliRunner().invoke(app, ["analytics", "flows", "--lake", str(lake), "--from",
                                   "2026-11-02", "--to", "2026-11-03", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert rows[1] == {"date": "2026-11-03", "origin": "110101", "destination": "110102",
                       "moves": "2"}


@pytest.mark.parametrize("args", [
    ["--from", "2026-11-03", "--to", "2026-11-02"],  # backwards
    ["--from", "2026-13-01", "--to", "2026-11-02"],  # no such date
    ["--from", "2026-11-02", "--to", "2026-11-03", "--engine", "oracle"],
    ["--from", "2026-11-02", "--to", "2026-11-03", "--case", "not-a-uuid"],
])
def test_bad_input_is_refused_without_a_result(lake: Path, tmp_path: Path,
                                               args: list[str]) -> None:
    out = tmp_path / "x.parquet"
    res = CliRunner().invoke(app, ["analytics", "companions", "--lake", str(lake),
                                   "--out", str(out), *args])
    assert res.exit_code in (1, 2) and not out.exists()
    assert "Traceback" not in res.output
