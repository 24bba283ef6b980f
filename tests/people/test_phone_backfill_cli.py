"""`passtrace db fill-phone-hashes`: fills what is missing, then finds nothing to do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passtrace.cli.main import app
from passtrace.core.config import Settings
from passtrace.core.runtime import Runtime
from passtrace.people import service as people_service
from passtrace.people.models import Person
from tests.conftest import next_id_number
from tests.people.legacy import person_without_phone_hash

runner = CliRunner()


def test_the_command_fills_missing_hashes_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    rt = Runtime.build(Settings())
    with Session(rt.engine) as session:
        for phone in ("13700000001", "13700000002", "13700000003"):
            person_without_phone_hash(session, rt, name="赵六", phone=phone)
        people_service.register(
            session=session, vault=rt.vault, actor=None, id_number=next_id_number(), name="孙七"
        )  # no phone
        session.commit()

    first = runner.invoke(app, ["db", "fill-phone-hashes"])
    assert first.exit_code == 0, first.output
    assert "3 phone hashes filled" in first.output
    with Session(rt.engine) as session:
        hashes = session.scalars(
            select(Person.phone_hash).where(Person.phone_masked.is_not(None))
        ).all()
    assert len(hashes) == 3 and all(hashes) and len(set(hashes)) == 3

    again = runner.invoke(app, ["db", "fill-phone-hashes"])
    assert again.exit_code == 0 and "0 phone hashes filled" in again.output
    rt.engine.dispose()
