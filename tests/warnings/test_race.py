"""Two rule runs at once on committed data, both databases: one alert per (rule, subject,
day). Without the unique (rule, subject, day) constraint each run inserts its own."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from passtrace.areas.models import AreaRisk
from passtrace.core.clock import utcnow
from passtrace.registrations.imports import import_id
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from passtrace.warnings import engine, service
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


def test_two_officials_closing_one_alert_at_once_leave_one_decision(
        committed_rt, committed_client) -> None:  # type: ignore[no-untyped-def]
    """Resolve and dismiss at once: without the row lock both read "open" and the later
    commit silently overwrites the first decision (PostgreSQL); with it the second waits,
    sees the alert closed and is refused."""
    from passtrace.warnings import alerts, service
    from tests.concurrency import committed_persona

    a = committed_persona(committed_rt, committed_client, "official", "area", "520102")
    b = committed_persona(committed_rt, committed_client, "official", "area", "520102")
    key = f"close{tag()}".ljust(64, "0")
    with committed_rt.sessions() as session:
        service.raise_alert(session=session, rule_code="checkpoint_fever",
                            subject_kind="person", subject_key=key, person_hash=key,
                            area_code="520102", evidence={})
        session.commit()
        alert_id = session.scalar(select(Alert.id).where(Alert.subject_key == key))

    outcomes = race(
        committed_rt,
        lambda s: alerts.resolve(session=s, actor=a.principal, alert_id=alert_id,
                                 resolution="contacted", note="已联系"),
        lambda s: alerts.dismiss(session=s, actor=b.principal, alert_id=alert_id,
                                 reason="误报"))
    if is_postgres(committed_rt):
        assert sorted(outcomes) == ["InvalidState", "ok"]
    else:
        assert sorted(outcomes) in (["InvalidState", "ok"], ["busy", "ok"])
    with committed_rt.sessions() as session:
        alert = session.get(Alert, alert_id)
        winner = a if outcomes[0] == "ok" else b
        assert alert is not None and alert.closed_by == winner.user_id
        assert alert.status == ("resolved" if winner is a else "dismissed")


def test_two_runners_scanning_one_declaration_at_once_scan_it_once(committed_rt) -> None:  # type: ignore[no-untyped-def]
    """Without the row lock on pending declarations both runners would scan it (its
    alerts would still be made once, by the dedupe key)."""
    now = utcnow()
    person = f"decl{tag()}".ljust(64, "0")
    with committed_rt.sessions() as session:
        site = Site(code=f"RACE-{tag()}", name="并发", kind="venue", area_code="520102009")
        session.add(site)
        session.flush()
        session.add(Registration(
            id=import_id(uuid.uuid4().hex, now - timedelta(days=2)), site_id=site.id,
            lane="1", device_key="d", occurred_at=now - timedelta(days=2), received_at=now,
            direction="through", method="qr", person_hash=person, decision="allow"))
        risk = AreaRisk(area_code="520102009", area_prefix="520102009", level="high",
                        valid_from=now, note="race")
        session.add(risk)
        session.commit()
        risk_id = risk.id
    scanned: list[int] = []

    def run(session) -> None:  # type: ignore[no-untyped-def]
        scanned.append(service.scan_pending(session=session).alerts)

    outcomes = race(committed_rt, run, run)
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]  # the second skips the locked declaration
    else:
        assert sorted(outcomes) in (["ok", "ok"], ["busy", "ok"])
    with committed_rt.sessions() as session:
        found = session.scalar(select(func.count()).select_from(Alert).where(
            Alert.rule_code == "risk_visit", Alert.person_hash == person))
        stored = session.get(AreaRisk, risk_id)
        assert stored is not None and stored.scanned_at is not None
    assert found == 1
