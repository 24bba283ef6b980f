"""passtrace warnings run / escalate: JSON counts, idempotent re-runs, bad input refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from passtrace.cli.main import app
from passtrace.core.config import Settings
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site

runner = CliRunner()


@pytest.fixture
def db(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    rt = Runtime.build(Settings())
    yield rt
    rt.engine.dispose()


def test_run_counts_new_alerts_once_per_day(db) -> None:  # type: ignore[no-untyped-def]
    at = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 local on 11-10
    for session in session_scope(db.sessions):
        site = Site(code="CLI-1", name="测试卡口", kind="road_checkpoint", area_code="520102")
        session.add(site)
        session.flush()
        session.add(Registration(id=uuid.uuid4(), site_id=site.id, lane="1", device_key="d",
                                 occurred_at=at, received_at=at, direction="through",
                                 method="qr", person_hash="a" * 64, decision="allow",
                                 temperature=38.9))
    first = runner.invoke(app, ["warnings", "run", "--day", "2026-11-10"])
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout.strip().splitlines()[-1])
    assert out["new"]["checkpoint_fever"] == 1 and out["total"] == 1
    again = json.loads(runner.invoke(app, ["warnings", "run", "--day", "2026-11-10"])
                       .stdout.strip().splitlines()[-1])
    assert again["total"] == 0
    bad = runner.invoke(app, ["warnings", "run", "--day", "11/10/2026"])
    assert bad.exit_code == 2
    escalated = runner.invoke(app, ["warnings", "escalate"])
    assert escalated.exit_code == 0 and '"escalated"' in escalated.stdout


def test_both_jobs_are_scheduled() -> None:
    from passtrace.jobs.schedule import scheduled_jobs

    names = [j.name for j in scheduled_jobs()]
    assert "warnings.run-rules" in names and "warnings.escalate" in names
