"""passtrace trace contacts: JSON lines and CSV, reveal only with a reason (both databases)."""

from __future__ import annotations

import json
import stat
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


def test_trace_export_file_is_private_and_names_the_os_user(cli_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from passtrace.audit.models import AuditEntry
    from passtrace.cli.files import os_user

    rt = cli_env
    with rt.sessions() as session:
        s = site(session, "road_checkpoint")
        p, near = person(session, rt), person(session, rt)
        c = case(session, p)
        reg(session, s, p.id_hash, T0)
        reg(session, s, near.id_hash, T0 + timedelta(minutes=10))
        session.commit()
        case_id, near_id = c.id, near.id
    out = tmp_path / "contacts.csv"
    out.write_text("left over from before\n")
    out.chmod(0o644)  # an older, readable file: the export must not stay readable
    done = runner.invoke(app, ["trace", "contacts", str(case_id), "--format", "csv",
                               "--reveal", "--reason", "流调需要联系密接人员", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text(encoding="utf-8-sig")
    assert "left over" not in text and "13800000000" in text
    with rt.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "contact.export",
            AuditEntry.resource_id == str(case_id))).all()
        assert entries and {e.detail.get("os_user") for e in entries} == {os_user()}
        mine = [e for e in entries if e.subject_person_id == near_id]
        assert mine and mine[0].detail["file"] == str(out)
    # Printed to stdout, the entry still names who ran it.
    printed = runner.invoke(app, ["trace", "contacts", str(case_id)])
    assert printed.exit_code == 0, printed.output
    with rt.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "contact.export", AuditEntry.resource_id == str(case_id),
            AuditEntry.subject_person_id.is_(None))).all()
        assert [e.detail.get("file") for e in entries].count("stdout") == 1
        assert all(e.detail.get("os_user") == os_user() for e in entries)
