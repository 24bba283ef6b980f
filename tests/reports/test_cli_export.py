"""`passtrace reports export` writes a file only its owner can read, names the OS account
that ran it, and tells each employee in the file through their access log."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from passtrace.audit.models import AuditEntry
from passtrace.cli.files import os_user
from passtrace.core.config import Settings
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people import service as people_service
from passtrace.reports.models import DailyReport
from tests.conftest import next_id_number
from tests.enterprises.conftest import credit_code

CODE = credit_code("91520102MA6J5GQX4")


def test_the_export_file_is_private_and_names_who_and_whom(tmp_path: Path, monkeypatch):
    from passtrace.cli.main import app

    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    rt = Runtime.build(Settings(database_url=url))  # what the CLI builds from the env
    for session in session_scope(rt.sessions):
        ent = Enterprise(credit_code=CODE, name="贵州黔味食品有限公司", area_code="520102006")
        session.add(ent)
        session.flush()
        dept = Department(enterprise_id=ent.id, name="生产部")
        session.add(dept)
        session.flush()
        person = people_service.register(session=session, vault=rt.vault, actor=None,
                                         id_number=next_id_number(), name="王小丽",
                                         phone="13800000000")
        emp = Employee(enterprise_id=ent.id, department_id=dept.id, person_id=person.id,
                       employee_no="E0001")
        session.add(emp)
        session.flush()
        session.add(DailyReport(employee_id=emp.id, enterprise_id=ent.id,
                                department_id=dept.id, report_date=date(2026, 11, 20),
                                temperature=36.5, stayed_home=True,
                                submitted_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC)))
        person_id = person.id
    out = tmp_path / "reports.csv"
    out.write_text("left over from before\n")
    out.chmod(0o644)  # an older, readable file: the export must not stay readable
    done = runner.invoke(app, ["reports", "export", "--enterprise", CODE, "--from",
                               "2026-11-20", "--to", "2026-11-20", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "left over" not in out.read_text(encoding="utf-8-sig")
    for session in session_scope(rt.sessions):
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "report.export")).all()
        assert {e.detail.get("os_user") for e in entries} == {os_user()}
        assert [e.subject_person_id for e in entries if e.subject_person_id] == [person_id]
    rt.engine.dispose()
