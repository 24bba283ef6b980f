"""What the command line prints about persons reaches their access log too: an operator
with the database in hand is still someone who read the person's data."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from passtrace.audit.models import AuditEntry
from passtrace.cli.main import app
from passtrace.core.config import Settings
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from tests.tracing.verify_world import DAY, ELSEWHERE, HOME, OFFICE, at, build

runner = CliRunner()


@pytest.fixture
def db(fresh_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", fresh_url)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    rt = Runtime.build(Settings())
    yield rt
    rt.engine.dispose()


def test_verify_reports_names_each_person_whose_findings_it_printed(db) -> None:  # type: ignore[no-untyped-def]
    for session in session_scope(db.sessions):
        w = build(session)
        p, e = w.person()
        q, f = w.person()
        quiet, g = w.person()
        w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), at("10:00"))],
                 external_id="R-1")
        w.report(f, q, [])
        w.seen(p, HOME, at("07:30"), external_id="G-7")
        w.seen(q, ELSEWHERE, at("21:00"))
        named, other, silent = p.id, q.id, quiet.id
    day = DAY.isoformat()
    res = runner.invoke(app, ["verify", "reports", "--from", day, "--to", day])
    assert res.exit_code == 0, res.output
    assert [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    for session in session_scope(db.sessions):
        rows = session.execute(select(AuditEntry.subject_person_id, AuditEntry.detail).where(
            AuditEntry.action == "report.findings.view")).all()
        seen = {pid: detail for pid, detail in rows}
        assert set(seen) == {named, other}, seen  # a person with no finding printed: none
        assert seen[named]["via"] == "cli" and seen[named]["os_user"]
        assert silent not in seen


def test_verify_reports_names_the_person_of_an_imported_report(db) -> None:  # type: ignore[no-untyped-def]
    # A report from another system (`reports import`) has no employee: the CLI must still
    # find its person (by the hash the report carries) to log the read.
    for session in session_scope(db.sessions):
        w = build(session)
        p, e = w.person()
        r = w.report(e, p, [(HOME, at("07:00"), at("08:00"))], external_id="IMP-1")
        r.employee_id = r.enterprise_id = r.department_id = None
        w.seen(p, OFFICE, at("12:00"), external_id="G-9")  # a visit no stop covers
        session.flush()
        imported = p.id
    day = DAY.isoformat()
    res = runner.invoke(app, ["verify", "reports", "--from", day, "--to", day])
    assert res.exit_code == 0, res.output
    printed = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert {x["report"] for x in printed} == {"IMP-1"}
    for session in session_scope(db.sessions):
        subjects = session.scalars(select(AuditEntry.subject_person_id).where(
            AuditEntry.action == "report.findings.view")).all()
        assert subjects == [imported]
