"""A job's result written as CSV (`passtrace analytics JOB --out x.csv`) is formula-safe
like every other export: a text cell a spreadsheet would evaluate is defused."""

from __future__ import annotations

import csv

import pyarrow as pa

from passtrace.analytics import run as runner


def test_a_result_csv_defuses_formula_cells(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = pa.table({"site_id": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)",
                                  "\tx", "plain"],
                      "registrations": [1, -2, 3, 4, 5, 6]})
    out = tmp_path / "r.csv"
    runner.write(table, out)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["site_id", "registrations"]
    cells = [r[0] for r in rows[1:]]
    assert cells == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "plain"]
    assert [r[1] for r in rows[1:]] == ["1", "-2", "3", "4", "5", "6"]  # numbers stay numbers
