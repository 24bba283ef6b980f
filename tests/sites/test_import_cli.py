"""`passtrace sites import`: the site import pipeline on the command line."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from passtrace.cli.main import app as cli_app
from passtrace.sites.models import Site

runner = CliRunner()
GOOD = ("code,name,kind,area_code\n"
        "CLI-01,花果园卡口,road_checkpoint,520102006\n"
        "CLI-02,南明超市,venue,520102\n")


@pytest.fixture
def cli_rt(rt, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("passtrace.cli.main._runtime", lambda settings=None: rt)
    return rt


def _codes(session) -> list[str]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return sorted(session.scalars(select(Site.code).where(Site.code.like("CLI-%"))))


def test_sites_import_all_or_nothing(cli_rt, session, tmp_path, make_persona):
    official = make_persona("official", "area", "520102")
    elsewhere = make_persona("official", "area", "520103")
    path = tmp_path / "sites.csv"
    path.write_text(GOOD + "CLI-03,,venue,520102\n", encoding="utf-8")
    refused = runner.invoke(cli_app, ["sites", "import", str(path), "--actor",
                                      official.user.username])
    assert refused.exit_code == 2, refused.output
    assert "4 (CLI-03)" in refused.output and "name" in refused.output
    assert _codes(session) == []
    partial = runner.invoke(cli_app, ["sites", "import", str(path), "--actor",
                                      official.user.username, "--valid-rows"])
    assert partial.exit_code == 0, partial.output
    assert "2 sites created" in partial.output
    assert _codes(session) == ["CLI-01", "CLI-02"]
    # Another district's official may not touch these sites: every row refused.
    path.write_text(GOOD, encoding="utf-8")
    outside = runner.invoke(cli_app, ["sites", "import", str(path), "--actor",
                                      elsewhere.user.username])
    assert outside.exit_code == 2 and "code" in outside.output
    again = runner.invoke(cli_app, ["sites", "import", str(path), "--actor",
                                    official.user.username])
    assert again.exit_code == 0 and "2 updated" in again.output


def test_sites_import_bad_input(cli_rt, session, tmp_path, make_persona):
    official = make_persona("official", "area", "520102")
    path = tmp_path / "sites.csv"
    path.write_text("code,name\nX,Y\n", encoding="utf-8")
    missing = runner.invoke(cli_app, ["sites", "import", str(path), "--actor",
                                      official.user.username])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    path.write_text(GOOD, encoding="utf-8")
    nobody = runner.invoke(cli_app, ["sites", "import", str(path), "--actor", "no-such-login"])
    assert nobody.exit_code == 2 and "--actor" in nobody.output
    gone = runner.invoke(cli_app, ["sites", "import", str(tmp_path / "none.csv"), "--actor",
                                   official.user.username])
    assert gone.exit_code == 2
    assert _codes(session) == []
