"""Each job's answer on the hand-built lake (known.py), on DuckDB."""

from __future__ import annotations

import pytest

from passtrace.analytics import run as runner

from . import known


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory):
    return known.build(tmp_path_factory.mktemp("lake"))


@pytest.mark.parametrize("job", sorted(known.CASES))
def test_job_answer(lake, job: str) -> None:
    params, expected = known.CASES[job]
    assert runner.run(known.job_of(job), lake, params).to_pylist() == expected


def test_site_load(lake) -> None:
    rows = runner.run("site-load", lake, known.SITE_LOAD_PARAMS).to_pylist()
    for row in known.SITE_LOAD_ROWS:
        assert row in rows
    # Every site-hour once with reason "*" (A: 9, 10, 11; B: 8, 9, 10; C: 8, 12), and
    # C at 12 on the 3rd twice more, for its two denial reasons.
    assert sum(r["reason"] == "*" for r in rows) == 8
    assert len(rows) == 10
