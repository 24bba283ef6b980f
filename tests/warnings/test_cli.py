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


def test_run_scans_a_new_declaration_and_counts_its_alerts(db) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from passtrace.areas.models import AreaRisk
    from passtrace.core.clock import utcnow

    now = utcnow()
    for session in session_scope(db.sessions):
        site = Site(code="CLI-2", name="测试小区", kind="venue", area_code="520102001")
        session.add(site)
        session.flush()
        session.add(Registration(id=uuid.uuid4(), site_id=site.id, lane="1", device_key="d",
                                 occurred_at=now - timedelta(days=2), received_at=now,
                                 direction="through", method="qr", person_hash="b" * 64,
                                 decision="allow"))
        session.add(AreaRisk(area_code="520102001", area_prefix="520102001", level="high",
                             valid_from=now, note="cli"))
    first = runner.invoke(app, ["warnings", "run"])
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout.strip().splitlines()[-1])
    assert out["scanned_areas"] == 1 and out["new"]["risk_visit"] == 1
    again = json.loads(runner.invoke(app, ["warnings", "run"]).stdout.strip().splitlines()[-1])
    assert again["scanned_areas"] == 0 and again["new"].get("risk_visit", 0) == 0
