"""passtrace cases add: prints the case id last; bad input is exit 2 and stores nothing."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from passtrace.cli.main import app
from passtrace.core.db import make_engine
from tests.concurrency import checkpoint_env
from tests.conftest import next_id_number, skip_or_fail

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A fresh migrated database with the areas, through the CLI itself."""
    name = f"passtrace_cli_cases_{os.getpid()}"
    if request.param == "postgresql":
        try:
            url = checkpoint_env.create_pg_database(name)
        except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
            skip_or_fail(f"PostgreSQL not reachable: {exc}")
    else:
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", url)
    monkeypatch.setenv("PASSTRACE_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("PASSTRACE_ARGON2_MEMORY_KIB", "64")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["db", "seed-areas"]).exit_code == 0
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        checkpoint_env.drop_pg_database(name)


def cases(engine) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [tuple(map(str, r)) for r in conn.execute(text(
            "SELECT id, area_code, classification FROM cases"))]


def test_it_prints_the_case_id_as_the_last_line(db):
    number = next_id_number()  # issued in 520102 (Nanming): the default area
    result = runner.invoke(app, ["cases", "add", "--id-number", number, "--onset",
                                 "2026-11-20"])
    assert result.exit_code == 0, result.output
    case_id = uuid.UUID(result.output.strip().splitlines()[-1])
    [(stored_id, area, classification)] = cases(db)
    assert uuid.UUID(stored_id) == case_id and area == "520102"
    assert classification == "confirmed"


def test_an_edited_window_and_an_official_actor(db):
    created = runner.invoke(app, ["accounts", "create", "nm-epi", "--name", "南明疾控"],
                            input="a-long-password\na-long-password\n")
    assert created.exit_code == 0, created.output
    assert runner.invoke(app, ["accounts", "grant", "nm-epi", "official", "--area",
                               "520102"]).exit_code == 0
    result = runner.invoke(app, [
        "cases", "add", "--id-number", "110101199003074514", "--onset", "2026-11-20",
        "--classification", "asymptomatic", "--sampling", "2026-11-21",
        "--window-start", "2026-11-10", "--window-end", "2026-11-24", "--actor", "nm-epi"])
    assert result.exit_code == 0, result.output
    uuid.UUID(result.output.strip().splitlines()[-1])
    [(_, area, classification)] = cases(db)
    assert area == "520102" and classification == "asymptomatic"
    with db.connect() as conn:
        start, end = conn.execute(text("SELECT window_start, window_end FROM cases")).one()
    utc = [(v if isinstance(v, datetime) else datetime.fromisoformat(v)) for v in (start, end)]
    assert [v.replace(tzinfo=v.tzinfo or UTC).astimezone(UTC) for v in utc] == [
        datetime(2026, 11, 9, 16, 0, tzinfo=UTC), datetime(2026, 11, 24, 16, 0, tzinfo=UTC)]


@pytest.mark.parametrize(("args", "says"), [
    (["--id-number", "110101199003074515", "--onset", "2026-11-20", "--area", "520102"],
     "id_number"),
    (["--id-number", "110101199003074514", "--onset", "20.11.2026", "--area", "520102"],
     "--onset"),
    (["--id-number", "110101199003074514", "--onset", "2026-11-20"], "--area"),
    (["--id-number", "110101199003074514", "--onset", "2026-11-20", "--area", "999999"],
     "area_code"),
    (["--id-number", "110101199003074514", "--onset", "2026-11-20", "--area", "520102",
      "--window-start", "2026-11-20", "--window-end", "2026-11-01"], "window_end"),
    (["--id-number", "110101199003074514", "--onset", "2026-11-20", "--area", "520102",
      "--classification", "recovered"], "classification"),
    (["--id-number", "110101199003074514", "--onset", "2026-11-20", "--area", "520102",
      "--actor", "nobody"], "--actor"),
])
def test_bad_input_exits_2_and_stores_nothing(db, args, says):
    result = runner.invoke(app, ["cases", "add", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert cases(db) == []
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM people")).scalar() == 0
