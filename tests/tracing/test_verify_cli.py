"""passtrace verify reports: JSON lines with external ids, bad input refused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from passtrace.cli.main import app
from passtrace.core.config import Settings
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from tests.tracing.verify_world import DAY, ELSEWHERE, HOME, OFFICE, at, build

runner = CliRunner()


@pytest.fixture
def db(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'v.db'}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    rt = Runtime.build(Settings())
    yield rt
    rt.engine.dispose()


def test_it_prints_one_finding_per_line_with_external_ids(db) -> None:  # type: ignore[no-untyped-def]
    for session in session_scope(db.sessions):
        w = build(session)
        p, e = w.person()
        q, f = w.person()
        w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), at("10:00"))],
                 external_id="R-1")
        plain = w.report(f, q, [])
        w.seen(p, HOME, at("07:30"), external_id="G-7")
        evening = w.seen(q, ELSEWHERE, at("21:00"))
        plain_id = plain.id
        evening_id = evening.id
    day = DAY.isoformat()
    res = runner.invoke(app, ["verify", "reports", "--from", day, "--to", day,
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert {"class": "corroborated", "report": "R-1", "stop_index": 1,
            "registration": "G-7"} in lines
    assert {"class": "unobservable", "report": "R-1", "stop_index": 2} in lines
    assert {"class": "unreported_visit", "report": str(plain_id),
            "registration": str(evening_id)} in lines
    assert len(lines) == 3
    again = runner.invoke(app, ["verify", "reports", "--from", day, "--to", day])
    assert [json.loads(x) for x in again.stdout.splitlines() if x.startswith("{")] == lines


@pytest.mark.parametrize("args", [["--from", "2026-13-01", "--to", "2026-11-20"],
                                  ["--from", "2026-11-20", "--to", "2026-11-20",
                                   "--tolerance-minutes", "0"],
                                  ["--from", "2026-11-21", "--to", "2026-11-20"],
                                  ["--from", "2026-11-20", "--to", "2026-11-20",
                                   "--format", "csv"]])
def test_bad_input_is_refused_clearly(db, args) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["verify", "reports", *args])
    assert res.exit_code in (1, 2)
    assert "Traceback" not in res.output and not res.stdout.startswith("{")
