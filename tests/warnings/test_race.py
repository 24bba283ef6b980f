"""Two rule runs at once on committed data, both databases: one alert per (rule, subject,
day). Without the unique (rule, subject, day) constraint each run inserts its own."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from passtrace.warnings import engine
from passtrace.warnings.models import Alert
from tests.concurrency import is_postgres, race, tag


def test_two_runs_of_a_day_at_once_make_each_alert_once(committed_rt) -> None:  # type: ignore[no-untyped-def]
    day = date(2030, 1, 1 + uuid.uuid4().int % 28)
    at = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    hashes = [f"race{tag()}".ljust(64, "0") for _ in range(3)]
    with committed_rt.sessions() as session:
        site = Site(code=f"RACE-{tag()}", name="并发", kind="venue", area_code="520102")
        session.add(site)
        session.flush()
        for h in hashes:
            session.add(Registration(
                id=uuid.uuid4(), site_id=site.id, lane="1", device_key="d", occurred_at=at,
                received_at=at, direction="through", method="qr", person_hash=h,
                decision="allow", temperature=38.6))
        session.commit()

    def run(session) -> None:  # type: ignore[no-untyped-def]
        engine.run_day(session=session, day=day)

    outcomes = race(committed_rt, run, run)
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]  # the second waits on the unique key, then skips
    else:
        assert sorted(outcomes) in (["ok", "ok"], ["busy", "ok"])
    with committed_rt.sessions() as session:
        found = session.scalar(select(func.count()).select_from(Alert).where(
            Alert.rule_code == "checkpoint_fever", Alert.person_hash.in_(hashes)))
    assert found == 3
