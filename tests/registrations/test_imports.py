"""Registrations from other systems: `POST /api/v1/registrations/import` and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from passtrace.audit import verify as chain_verify
from passtrace.cli.main import app as cli_app
from passtrace.core.ids import uuid7
from passtrace.people import service as people_service
from passtrace.people.models import Person
from passtrace.registrations import imports, stays
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.conftest import next_id_number
from tests.registrations.conftest import SITE

HEADER = "external_id,site_code,id_number,occurred_at,direction,temperature,plate\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def _post(client: Any, headers: dict[str, str], data: bytes) -> Any:
    return client.post("/api/v1/registrations/import", headers=headers,
                       files={"file": ("regs.csv", data, "text/csv")})


def _venue(session: Any) -> Site:
    """A site where people stay (imports into it build stays); no official needed."""
    site = Site(id=uuid7(), code=f"V-{uuid7().hex[-8:]}", name="场所", kind="venue",
                area_code="520102", lanes=["1"])
    session.add(site)
    session.commit()
    return site


def _stays_of(session: Any, person_hash: str | None) -> list[tuple[Any, ...]]:
    session.expire_all()
    assert person_hash is not None
    return [(s.id, s.started_at, s.ended_at, s.closed_by, s.out_registration_id)
            for s in stays.stays_of(session, person_hash)]


def _imported(session: Any) -> list[Registration]:
    session.expire_all()
    return list(session.scalars(select(Registration).where(Registration.method == "import")
                                .order_by(Registration.external_id)))


def test_official_imports_historical_rows_once(client, session, rt, checkpoint):
    known, unknown = next_id_number(), next_id_number()
    people_service.register(session=session, vault=rt.vault, actor=None, id_number=known,
                            name="李四")
    session.commit()
    data = _csv(f"old-1,{SITE},{known},2026-02-03T08:30:00+08:00,in,36.6,",
                f"old-2,{SITE},{known},2026-02-03T10:00:00+08:00,OUT,,贵A12345",
                f"old-3,{SITE},{unknown},2026-02-03T09:00:00+08:00,through,,")
    resp = _post(client, checkpoint.official.headers, data)
    assert resp.status_code == 200, resp.text
    assert resp.json() | {"problems": []} == {"rows": 3, "imported": 3, "unchanged": 0,
                                              "refused": 0, "stays": resp.json()["stays"],
                                              "problems": []}
    rows = _imported(session)
    assert [r.external_id for r in rows] == ["old-1", "old-2", "old-3"]
    first = rows[0]
    assert (first.decision, first.decided_by, first.reasons) == ("allow", "import", [])
    assert first.occurred_at == datetime(2026, 2, 3, 0, 30, tzinfo=UTC)
    assert first.person_hash == rt.vault.lookup_hash(known)
    assert first.person_masked == "李*" and first.id_last4 == known[-4:]
    assert first.temperature == 36.6 and first.id.version == 7
    assert rows[1].direction == "out" and rows[1].plate == "贵A12345"
    assert rows[2].person_masked == "" and rows[2].person_hash == rt.vault.lookup_hash(unknown)
    # The same file again stores nothing new, and keeps the same ids.
    again = _post(client, checkpoint.official.headers, data)
    assert again.json()["imported"] == 0 and again.json()["unchanged"] == 3
    assert [r.id for r in _imported(session)] == [r.id for r in rows]


def test_bad_rows_are_reported_and_the_good_ones_stored(client, session, checkpoint):
    good = next_id_number()
    data = _csv(f"ok-1,{SITE},{good},2026-02-03T08:30:00+08:00,in,,",
                f"bad-1,NO-SUCH,{good},2026-02-03T08:30:00+08:00,in,,",
                f"bad-2,{SITE},520102199001011234,2026-02-03T08:30:00+08:00,in,,",
                f"bad-3,{SITE},{good},2026-02-03T08:30:00,in,,",
                f"bad-4,{SITE},{good},2026-02-03T08:30:00+08:00,sideways,,",
                f"bad-5,{SITE},{good},2026-02-03T08:30:00+08:00,in,51,")
    resp = _post(client, checkpoint.official.headers, data)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["imported"], body["refused"]) == (1, 5)
    assert [(p["row"], p["column"]) for p in body["problems"]] == [
        (3, "site_code"), (4, "id_number"), (5, "occurred_at"), (6, "direction"),
        (7, "temperature")]
    assert "NO-SUCH" in body["problems"][0]["message"]
    assert [r.external_id for r in _imported(session)] == ["ok-1"]


@pytest.mark.parametrize("data", [
    b"",
    b"external_id,site_code,id_number,occurred_at\nx,y,z,w\n",
    HEADER.encode() + b"a,CP-T-01,\xff\xfe,2026-02-03T08:30:00+08:00,in,,\n",
])
def test_a_file_that_cannot_be_read_changes_nothing(client, session, checkpoint, data):
    resp = _post(client, checkpoint.official.headers, data)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["message"]
    assert _imported(session) == []


def test_personas(client, session, checkpoint, make_persona):
    data = _csv(f"p-1,{SITE},{next_id_number()},2026-02-03T08:30:00+08:00,in,,")
    elsewhere = make_persona("official", "area", "520103")
    resp = _post(client, elsewhere.headers, data)
    assert resp.status_code == 200, resp.text
    assert resp.json()["refused"] == 1 and resp.json()["problems"][0]["column"] == "site_code"
    assert _post(client, checkpoint.resident.headers, data).status_code == 403
    assert _imported(session) == []


def test_an_imported_in_and_out_make_a_closed_stay(client, session, checkpoint):
    venue = _venue(session)
    person = next_id_number()
    data = _csv(f"s-1,{venue.code},{person},2026-02-03T08:30:00+08:00,in,,",
                f"s-2,{venue.code},{person},2026-02-03T07:30:00+08:00,out,,",
                f"s-3,{venue.code},{person},2026-02-03T10:00:00+08:00,out,,")
    resp = _post(client, checkpoint.official.headers, data)
    assert resp.status_code == 200 and resp.json()["stays"] == 1, resp.text
    rows = {r.external_id: r for r in _imported(session)}
    assert _stays_of(session, rows["s-1"].person_hash) == [
        (rows["s-1"].id, datetime(2026, 2, 3, 0, 30, tzinfo=UTC),
         datetime(2026, 2, 3, 2, 0, tzinfo=UTC), "out", rows["s-3"].id)]


runner = CliRunner()


@pytest.fixture
def cli_rt(rt, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("passtrace.cli.main._runtime", lambda settings=None: rt)
    return rt


def test_cli_import_is_idempotent_and_reports_rows(cli_rt, session, checkpoint, tmp_path):
    path: Path = tmp_path / "regs.csv"
    person = next_id_number()
    path.write_bytes(_csv(*(f"c-{i},{SITE},{person},2026-02-03T08:{i:02d}:00+08:00,through,,"
                            for i in range(30))))
    username = checkpoint.official.user.username
    done = runner.invoke(cli_app, ["registrations", "import", str(path), "--actor", username])
    assert done.exit_code == 0, done.output
    assert "30 imported" in done.output
    again = runner.invoke(cli_app, ["registrations", "import", str(path)])
    assert again.exit_code == 0 and "30 already there" in again.output
    assert session.scalar(select(func.count()).select_from(Registration).where(
        Registration.method == "import")) == 30
    path.write_bytes(_csv(f"c-x,{SITE},{person},yesterday,through,,"))
    bad = runner.invoke(cli_app, ["registrations", "import", str(path)])
    assert bad.exit_code == 2 and "occurred_at" in bad.output
    missing = runner.invoke(cli_app, ["registrations", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv" in missing.output
    stranger = runner.invoke(cli_app, ["registrations", "import", str(path),
                                       "--actor", checkpoint.resident.user.username])
    assert stranger.exit_code == 2 and "Traceback" not in stranger.output


def test_chunks_commit_as_they_go(session, rt, checkpoint, tmp_path):
    person = next_id_number()
    data = _csv(*(f"k-{i},{SITE},{person},2026-02-03T08:{i:02d}:00+08:00,through,,"
                  for i in range(25)))
    commits: list[int] = []

    def commit() -> None:
        session.commit()
        commits.append(len(_imported(session)))

    path = tmp_path / "k.csv"
    path.write_bytes(data)
    with path.open("rb") as fh:
        done = imports.import_registrations(session=session, vault=rt.vault, actor=None,
                                            stream=fh, commit=commit, chunk_rows=10)
    assert done.imported == 25
    assert commits[:3] == [10, 20, 25]


def test_an_imported_person_sees_the_import_in_their_access_log(client, session, rt,
                                                                 checkpoint, make_persona):
    resident = make_persona("public", name="王五")
    person = session.get(Person, resident.principal.person_id)
    number = rt.vault.read(person, "id_enc")
    other = make_persona("public", name="赵六")
    # More known persons in the file: their entries chain one after another.
    more = [make_persona("public", name=f"孙{i}") for i in range(3)]
    numbers = [rt.vault.read(session.get(Person, m.principal.person_id), "id_enc")
               for m in more]
    before = client.get("/me/access-log", headers=resident.headers).text
    assert "从其他系统导入了登记记录" not in before
    data = _csv(f"log-1,{SITE},{number},2026-02-03T08:30:00+08:00,in,,",
                f"log-2,{SITE},{number},2026-02-03T09:30:00+08:00,out,,",
                f"log-3,{SITE},{next_id_number()},2026-02-03T09:00:00+08:00,through,,",
                *(f"log-m{i},{SITE},{n},2026-02-03T10:00:00+08:00,through,,"
                  for i, n in enumerate(numbers)))
    resp = _post(client, checkpoint.official.headers, data)
    assert resp.status_code == 200 and resp.json()["imported"] == 6, resp.text
    log = client.get("/me/access-log", headers=resident.headers)
    assert log.status_code == 200
    assert log.text.count("从其他系统导入了登记记录") == 1
    for m in more:
        assert client.get("/me/access-log", headers=m.headers).text.count(
            "从其他系统导入了登记记录") == 1
    assert "从其他系统导入了登记记录" not in client.get("/me/access-log",
                                                   headers=other.headers).text
    # Nothing new the second time: no entry either; the chain still verifies.
    _post(client, checkpoint.official.headers, data)
    assert client.get("/me/access-log", headers=resident.headers).text.count(
        "从其他系统导入了登记记录") == 1
    session.expire_all()
    assert chain_verify.verify(session=session).broken is None
