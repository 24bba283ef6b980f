"""`passtrace sunset`: aggregate statistics out, then every personal record and key gone,
with chained receipts; without --confirm nothing changes."""

from __future__ import annotations

import hashlib
import json
import stat
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.areas import service as area_service
from passtrace.areas.models import Area
from passtrace.audit import verify as chain_verify
from passtrace.audit.models import AuditEntry
from passtrace.cli.main import app as cli
from passtrace.core import migrate
from passtrace.core.config import Settings
from passtrace.core.db import make_engine
from passtrace.core.runtime import Runtime
from passtrace.passes import keyring, trust_root
from passtrace.passes.models import SigningKeyRecord
from passtrace.people import service as people_service
from passtrace.people.models import Person, PersonClaim
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.conftest import next_id_number
from tests.retention import helpers

runner = CliRunner()


def _seed(url: str, root_file: Path) -> None:
    rt = Runtime.build(Settings(database_url=url), engine=make_engine(url))
    migrate.upgrade(rt.engine)
    with rt.sessions() as session:
        area_service.load_bundled(session=session)
        person = people_service.register(session=session, vault=rt.vault, actor=None,
                                         id_number=next_id_number(), name="张三",
                                         phone="13800001234", source=("visit", uuid.UUID(int=7)))
        account_service.create(session=session, rt=rt, actor=None, username="resident1",
                               password="a-long-password-1", display_name="张三",
                               person_id=person.id)
        site = helpers.site(session)
        for days in (1, 1, 2):
            helpers.registration(session, site.id, helpers.days_ago(days))
        keyring.ensure(session=session, vault=rt.vault)
        trust_root.sign(session=session, vault=rt.vault,
                        root=trust_root.load_or_generate(root_file), actor=None)
        session.commit()
    rt.engine.dispose()


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_sunset_exports_aggregates_then_deletes_personal_data_and_keys(
        fresh_url: str, monkeypatch, tmp_path: Path):
    root_file = tmp_path / "root.pem"
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", fresh_url)
    monkeypatch.setenv("PASSTRACE_TRUST_ROOT_KEY_FILE", str(root_file))
    monkeypatch.setenv("PASSTRACE_DATA_DIR", str(tmp_path))
    _seed(fresh_url, root_file)
    engine = make_engine(fresh_url)

    # Without --confirm: the counts, and nothing changes.
    dry = runner.invoke(cli, ["sunset"])
    assert dry.exit_code == 0, dry.output
    assert "Nothing was changed" in dry.output
    assert next(x for x in dry.output.splitlines() if "registrations" in x).count("3") == 1
    with Session(engine) as session:
        assert _count(session, Person) == 1 and _count(session, Registration) == 3
        assert _count(session, SigningKeyRecord) == 2
    assert root_file.exists()

    stats_file = tmp_path / "stats.json"
    done = runner.invoke(cli, ["sunset", "--confirm", "--stats", str(stats_file)])
    assert done.exit_code == 0, done.output

    # The statistics: the owner's only, counts per day, site kind and area, nobody in them.
    assert stat.S_IMODE(stats_file.stat().st_mode) == 0o600
    body = stats_file.read_bytes()
    stats = json.loads(body)
    assert stats["people"] == 1
    assert sum(r["count"] for r in stats["registrations"]) == 3
    assert {r["site_kind"] for r in stats["registrations"]} == {"checkpoint"}
    assert {r["area"] for r in stats["registrations"]} == {"520102"}
    assert "张" not in body.decode() and "1380000" not in body.decode()

    with Session(engine) as session:
        for model in (Person, PersonClaim, User, Registration, SigningKeyRecord):
            assert _count(session, model) == 0, model
        # Places stay; the audit log stays, chained, with the receipts.
        assert _count(session, Area) > 0 and _count(session, Site) == 1
        assert chain_verify.verify(session=session).broken is None
        complete = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "sunset.complete")).one()
        assert complete.detail["statistics_sha256"] == hashlib.sha256(body).hexdigest()
        assert complete.detail["deleted"]["registrations"] == 3
        assert complete.detail["key_files_destroyed"] == [str(root_file)]
        receipts = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "sunset.delete")).all()
        assert sum(r.detail["rows"] for r in receipts if r.detail["table"] == "people") == 1
    assert not root_file.exists()
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    # A second run finds nothing to delete and refuses to overwrite the statistics.
    again = runner.invoke(cli, ["sunset"])
    assert again.exit_code == 0
    engine.dispose()
