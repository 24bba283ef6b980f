"""passtrace trace contacts: JSON lines and CSV, reveal only with a reason (both databases)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from passtrace.audit import access_log
from passtrace.cli.main import app
from passtrace.core.runtime import Runtime
from tests.tracing.world import T0, case, person, reg, site

runner = CliRunner()


@pytest.fixture
def cli_env(committed_rt: Runtime, committed_url: str, monkeypatch):  # type: ignore[no-untyped-def]
    s = committed_rt.settings
    monkeypatch.setenv("PASSTRACE_ENV", s.env)
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", committed_url)
    monkeypatch.setenv("PASSTRACE_SECRET_KEY", s.secret_key.get_secret_value()
                       if hasattr(s.secret_key, "get_secret_value") else str(s.secret_key))
    return committed_rt


def test_trace_contacts_prints_json_lines_and_reveals_only_with_a_reason(cli_env) -> None:  # type: ignore[no-untyped-def]
    rt = cli_env
    with rt.sessions() as session:
        s = site(session, "road_checkpoint")
        p, near = person(session, rt), person(session, rt)
        c = case(session, p)
        reg(session, s, p.id_hash, T0, external_id=f"CASE-{c.id.hex[:8]}")
        reg(session, s, near.id_hash, T0 + timedelta(minutes=30))
        reg(session, s, near.id_hash, T0 + timedelta(minutes=31))
        session.commit()
        case_id, near_id = c.id, near.id
    out = runner.invoke(app, ["trace", "contacts", str(case_id), "--format", "json"])
    assert out.exit_code == 0, out.output
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.strip()]
    assert len(lines) == 1
    line = lines[0]
    assert line["kind"] == "close" and line["depth"] == 1
    assert [e["kind"] for e in line["evidence"]] == ["same_site_window"]
    assert line["evidence"][0]["case_registration"]["external_id"].startswith("CASE-")
    assert "id_number" not in line and "phone" not in line
    narrow = runner.invoke(app, ["trace", "contacts", str(case_id), "--window-minutes", "29"])
    assert narrow.exit_code == 0 and narrow.stdout.strip() == ""  # 30 minutes apart: not within 29
    no_reason = runner.invoke(app, ["trace", "contacts", str(case_id), "--reveal"])
    assert no_reason.exit_code == 1
    revealed = runner.invoke(app, ["trace", "contacts", str(case_id), "--reveal",
                                   "--reason", "流调需要联系密接人员"])
    assert revealed.exit_code == 0, revealed.output
    line = json.loads(revealed.stdout.splitlines()[0])
    assert len(line["id_number"]) == 18 and line["phone"] == "13800000000"
    as_csv = runner.invoke(app, ["trace", "contacts", str(case_id), "--format", "csv"])
    assert as_csv.exit_code == 0 and "same_site_window" in as_csv.stdout
    with rt.sessions() as session:
        entries = access_log.access_page(session=session, person_id=near_id).entries
        assert any(e.action == "contact.export" and e.detail.get("revealed") for e in entries)


def test_trace_contacts_refuses_bad_input(cli_env) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(app, ["trace", "contacts", "not-a-case"]).exit_code == 2
    assert runner.invoke(app, ["trace", "contacts", "0" * 32, "--format", "xml"]).exit_code == 2
    missing = runner.invoke(app, ["trace", "contacts", "0" * 32])
    assert missing.exit_code == 1
