"""Daily reports from other systems: `passtrace reports import FILE.jsonl`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from passtrace.audit import verify as chain_verify
from passtrace.cli.main import app as cli_app
from passtrace.people import service as people_service
from passtrace.people.models import Person
from passtrace.reports import imports
from passtrace.reports.models import DailyReport
from tests.conftest import next_id_number

runner = CliRunner()


def _line(external_id: str, id_number: str, **overrides: Any) -> str:
    body: dict[str, Any] = {
        "external_id": external_id, "id_number": id_number, "date": "2026-02-03",
        "temperature": 36.6,
        "stops": [{"area_code": "520102", "arrive": "2026-02-03T08:00:00+08:00",
                   "leave": "2026-02-03T12:00:00+08:00", "place": "花果园"},
                  {"area_code": "520103", "arrive": "2026-02-03T13:00:00+08:00",
                   "transport": {"mode": "train", "ref": "G1234", "seat": "5-12F"}}]}
    body.update(overrides)
    return json.dumps(body, ensure_ascii=False)


def _data(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _reports(session: Any) -> list[DailyReport]:
    session.expire_all()
    return list(session.scalars(select(DailyReport).where(DailyReport.source == "import")
                                .order_by(DailyReport.external_id)))


def test_reports_are_imported_once_and_unknown_persons_become_protected_records(session, rt):
    known, unknown = next_id_number(), next_id_number()
    people_service.register(session=session, vault=rt.vault, actor=None, id_number=known,
                            name="李四")
    people_before = session.scalar(select(func.count()).select_from(Person))
    data = _data(_line("r-1", known), _line("r-2", unknown, temperature=None, stops=[]))
    done = imports.import_reports(session=session, vault=rt.vault, actor=None, data=data)
    assert [(p.row, p.column, p.translated()) for p in done.problems] == []
    assert (done.committed, done.imported, done.people) == (True, 2, 1)
    first, second = _reports(session)
    assert first.employee_id is None and first.enterprise_id is None
    assert first.person_hash == rt.vault.lookup_hash(known) and first.temperature == 36.6
    assert [(s.area_code, s.mode, s.ref, s.seat) for s in first.stops] == [
        ("520102", None, None, None), ("520103", "train", "G1234", "05-12F")]
    assert second.temperature is None and second.stops == []
    person = session.scalar(select(Person).where(Person.id_hash == rt.vault.lookup_hash(unknown)))
    assert person is not None and person.name_masked == "" and person.identity_proofed_at is None
    assert rt.vault.read(person, "id_enc") == unknown
    assert session.scalar(select(func.count()).select_from(Person)) == people_before + 1
    again = imports.import_reports(session=session, vault=rt.vault, actor=None, data=data)
    assert (again.imported, again.unchanged, again.people) == (0, 2, 0)
    assert len(_reports(session)) == 2


def test_each_refused_line_is_reported_and_nothing_is_stored(session, rt):
    good = next_id_number()
    data = _data(_line("ok", good),
                 "not json",
                 _line("bad-id", "123"),
                 _line("bad-date", good, date="03/02/2026"),
                 _line("bad-stop", good, stops=[{"area_code": "520102",
                                                 "arrive": "2026-02-03T08:00:00"}]),
                 _line("ok", good),
                 _line("bad-temp", good, temperature=50))
    done = imports.import_reports(session=session, vault=rt.vault, actor=None, data=data)
    assert not done.committed and done.refused == 6
    assert [(p.row, p.column) for p in done.problems] == [
        (2, ""), (3, "id_number"), (4, "date"), (5, "stops[0].arrive_at"), (6, "external_id"),
        (7, "temperature")]
    assert _reports(session) == []
    partial = imports.import_reports(session=session, vault=rt.vault, actor=None, data=data,
                                     import_valid=True)
    assert partial.committed and partial.imported == 1
    assert [r.external_id for r in _reports(session)] == ["ok"]


@pytest.fixture
def cli_rt(rt, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("passtrace.cli.main._runtime", lambda settings=None: rt)
    return rt


def test_cli_reports_import(cli_rt, session, tmp_path, make_persona):
    official = make_persona("official", "area", "520102")
    path = tmp_path / "reports.jsonl"
    path.write_bytes(_data(_line("c-1", next_id_number())))
    done = runner.invoke(cli_app, ["reports", "import", str(path), "--actor",
                                   official.user.username])
    assert done.exit_code == 0, done.output
    assert "1 imported" in done.output
    again = runner.invoke(cli_app, ["reports", "import", str(path)])
    assert again.exit_code == 0 and "1 already there" in again.output
    path.write_bytes(_data(_line("c-2", "520102199001011234")))
    bad = runner.invoke(cli_app, ["reports", "import", str(path)])
    assert bad.exit_code == 2 and "id_number" in bad.output
    path.write_bytes(b"\xff\xfe")
    unreadable = runner.invoke(cli_app, ["reports", "import", str(path)])
    assert unreadable.exit_code == 2 and "UTF-8" in unreadable.output
    resident = make_persona("public")
    refused = runner.invoke(cli_app, ["reports", "import", str(path), "--actor",
                                      resident.user.username])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert [r.external_id for r in _reports(session)] == ["c-1"]


def test_an_imported_report_is_not_on_the_employer_pages(client, session, rt, make_persona):
    imports.import_reports(session=session, vault=rt.vault, actor=None,
                           data=_data(_line("nobody", next_id_number())))
    session.commit()
    (report,) = _reports(session)
    admin = make_persona("admin")
    assert client.get(f"/api/v1/reports/{report.id}", headers=admin.headers).status_code == 404


def test_an_imported_person_sees_the_import_in_their_access_log(client, session, rt,
                                                                 make_persona):
    resident = make_persona("public", name="王五")
    person = session.get(Person, resident.principal.person_id)
    number = rt.vault.read(person, "id_enc")
    other = make_persona("public", name="赵六")
    official = make_persona("official", "area", "520102")
    data = _data(_line("log-1", number), _line("log-2", number, stops=[]),
                 _line("log-3", next_id_number()))
    done = imports.import_reports(session=session, vault=rt.vault,
                                  actor=official.principal, data=data)
    session.commit()
    assert done.imported == 3
    log = client.get("/me/access-log", headers=resident.headers)
    assert log.status_code == 200
    assert log.text.count("从其他系统导入了每日报告") == 1
    assert "从其他系统导入了每日报告" not in client.get("/me/access-log",
                                                     headers=other.headers).text
    session.expire_all()
    assert chain_verify.verify(session=session).broken is None
