"""A declaration applied in parts by person hash (service.scan_declarations), on committed
data, both databases: on PostgreSQL the parts run at once on connections of their own,
each its own transaction; on SQLite one after the other in one transaction.

What a visitor must end with whatever happens on the way (a part failing and retried,
two runners at once, a lift during the apply): one alert, one yellow flag, one history
entry green -> yellow, and the flag in their access log; nobody else touched."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from passtrace.areas.models import AreaRisk
from passtrace.audit.models import AuditEntry
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.health.models import StatusChange, StatusFlag
from passtrace.people.models import Person
from passtrace.registrations.imports import import_id
from passtrace.registrations.models import Registration
from passtrace.warnings import risk_areas, service, shards
from passtrace.warnings.models import Alert
from tests.concurrency import committed_persona, is_postgres, race
from tests.tracing import world as tw


def test_the_parts_hold_every_hash_once() -> None:
    hexes = [uuid.uuid4().hex + uuid.uuid4().hex for _ in range(200)]
    typed = ["race" + "0" * 60, "", "Z", "~~", "7" * 64, "8" + "0" * 63]
    for parts in (1, 2, 3, 16):
        ranges = shards.split(parts)
        assert len(ranges) == parts
        for value in hexes + typed:
            assert sum(r.holds(value) for r in ranges) == 1, (parts, value)
    low, high = shards.split(2)
    # An even split of hex hashes: the first digit decides.
    assert low.holds("7f" + "0" * 62) and high.holds("80" + "0" * 62)


def _world(rt, visitors: int = 6):  # type: ignore[no-untyped-def]
    """A fresh community with a site, visitors in both halves of the split, a stranger
    elsewhere, and a declaration of the community (committed)."""
    code = f"52010299{random.randrange(10_000):04d}"
    low, _high = shards.split(2)
    now = utcnow()
    with rt.sessions() as session:
        inside, elsewhere = tw.site(session, area=code), tw.site(session, area="520102001")
        people: list[Person] = []
        while len(people) < visitors or len({low.holds(p.id_hash) for p in people}) < 2:
            people.append(tw.person(session, rt))
        stranger = tw.person(session, rt)
        for n, p in enumerate(people):
            for back in range(1 + n % 3):  # one to three visits each
                at = now - timedelta(days=back + 1)
                session.add(Registration(
                    id=import_id(uuid.uuid4().hex, at), site_id=inside.id, lane="1",
                    device_key="d", occurred_at=at, received_at=now, direction="through",
                    method="qr", person_hash=p.id_hash, decision="allow"))
        session.add(Registration(
            id=import_id(uuid.uuid4().hex, now), site_id=elsewhere.id, lane="1",
            device_key="d", occurred_at=now - timedelta(hours=2), received_at=now,
            direction="through", method="qr", person_hash=stranger.id_hash,
            decision="allow"))
        risk = AreaRisk(area_code=code, area_prefix=significant_prefix(code), level="high",
                        valid_from=now, note="parts")
        session.add(risk)
        session.commit()
        return risk.id, [p.id for p in people], [p.id_hash for p in people], stranger.id


def _each_flagged_once(rt, people, hashes, stranger) -> None:  # type: ignore[no-untyped-def]
    """One alert, one yellow flag, one green -> yellow history entry and one access-log
    entry per visitor; the stranger untouched."""
    with rt.sessions() as session:
        alerts = session.execute(select(Alert.person_hash, func.count()).where(
            Alert.rule_code == "risk_visit", Alert.person_hash.in_(hashes))
            .group_by(Alert.person_hash)).all()
        assert dict(alerts) == dict.fromkeys(hashes, 1)
        flags = session.execute(select(StatusFlag.person_id, StatusFlag.level).where(
            StatusFlag.person_id.in_([*people, stranger]))).all()
        assert sorted(flags) == sorted((p, "yellow") for p in people)
        history = session.execute(select(
            StatusChange.person_id, StatusChange.before, StatusChange.after,
            StatusChange.reason, StatusChange.flag_id.is_not(None)).where(
            StatusChange.person_id.in_([*people, stranger]))).all()
        assert sorted(history) == sorted(
            (p, "green", "yellow", "risk_area_visit", True) for p in people)
        statuses = dict(session.execute(select(Person.id, Person.status).where(
            Person.id.in_([*people, stranger]))).all())
        assert statuses == dict.fromkeys(people, "yellow") | {stranger: "green"}
        logged = session.scalars(select(AuditEntry.subject_person_id).where(
            AuditEntry.action == "health.flag.raise",
            AuditEntry.subject_person_id.in_([*people, stranger]))).all()
        assert sorted(logged) == sorted(people)


def _scanned(rt, risk_id) -> AreaRisk:  # type: ignore[no-untyped-def]
    with rt.sessions() as session:
        risk = session.get(AreaRisk, risk_id)
        assert risk is not None
        return risk


def test_a_declaration_applied_in_parts_flags_each_visitor_once(committed_rt) -> None:  # type: ignore[no-untyped-def]
    risk_id, people, hashes, stranger = _world(committed_rt)
    done = service.scan_declarations(sessions=committed_rt.sessions, parts=2)
    assert done.alerts >= len(people) and done.flags >= len(people)
    _each_flagged_once(committed_rt, people, hashes, stranger)
    assert _scanned(committed_rt, risk_id).scanned_at is not None
    # Run again (the next tick): nothing pending, nothing new.
    again = service.scan_declarations(sessions=committed_rt.sessions, parts=2)
    assert (again.alerts, again.flags) == (0, 0)
    _each_flagged_once(committed_rt, people, hashes, stranger)


def test_a_failed_part_is_applied_again_and_nothing_twice(committed_rt, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The second half's part fails once (a lost connection, a killed runner): the
    declaration stays unscanned; the next run applies it, the first half's visitors
    (committed already on PostgreSQL) get nothing twice."""
    risk_id, people, hashes, stranger = _world(committed_rt)
    low, high = shards.split(2)
    _failing_once(monkeypatch, high)
    with pytest.raises(ConnectionError):
        service.scan_declarations(sessions=committed_rt.sessions, parts=2)
    assert _scanned(committed_rt, risk_id).scanned_at is None  # still "being applied"
    with committed_rt.sessions() as session:
        flagged = set(session.scalars(select(StatusFlag.person_id).where(
            StatusFlag.person_id.in_(people))))
    first_half = {p for p, h in zip(people, hashes, strict=True) if low.holds(h)}
    # PostgreSQL: the first half's part committed on its own; SQLite: one transaction,
    # all rolled back.
    assert flagged == (first_half if is_postgres(committed_rt) else set())
    service.scan_declarations(sessions=committed_rt.sessions, parts=2)
    _each_flagged_once(committed_rt, people, hashes, stranger)
    assert _scanned(committed_rt, risk_id).scanned_at is not None


def test_two_runners_at_once_flag_each_visitor_once(committed_rt) -> None:  # type: ignore[no-untyped-def]
    risk_id, people, hashes, stranger = _world(committed_rt)

    def run(_session) -> None:  # type: ignore[no-untyped-def]
        service.scan_declarations(sessions=committed_rt.sessions, parts=2)

    outcomes = race(committed_rt, run, run)
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]  # the second skips the claimed declaration
    else:
        assert sorted(outcomes) in (["ok", "ok"], ["busy", "ok"])
    _each_flagged_once(committed_rt, people, hashes, stranger)
    assert _scanned(committed_rt, risk_id).scanned_at is not None


def test_a_lift_during_the_apply_waits_for_it_and_the_visitors_stay_flagged(
        committed_rt, committed_client) -> None:  # type: ignore[no-untyped-def]
    """An official lifts while the parts are being applied: the lift waits for the
    declaration's row lock, so the apply ends as it began (every visitor found is
    flagged, none half-way), and then the risk ends."""
    official = committed_persona(committed_rt, committed_client, "official", "area", "520102")
    risk_id, people, hashes, stranger = _world(committed_rt)
    lifted = threading.Event()
    errors: list[BaseException] = []

    def lift() -> None:
        try:
            with committed_rt.sessions() as session:
                risk_areas.lift(session=session, actor=official.principal, risk_id=risk_id,
                                reason="declared in error")
                session.commit()
            lifted.set()
        except BaseException as exc:  # noqa: BLE001 - the test's assertion shows it
            errors.append(exc)

    lifter = threading.Thread(target=lift)

    def after_part() -> None:
        if not lifter.is_alive() and not lifted.is_set() and not errors:
            lifter.start()
            # The lift is blocked behind the apply (not refused, not done).
            assert not lifted.wait(timeout=1.0)

    service.scan_declarations(sessions=committed_rt.sessions, parts=2, after_part=after_part)
    lifter.join(timeout=60)
    assert errors == [] and lifted.is_set()
    _each_flagged_once(committed_rt, people, hashes, stranger)
    risk = _scanned(committed_rt, risk_id)
    assert risk.scanned_at is not None and risk.lifted_at is not None
    assert risk.lifted_at >= risk.scanned_at


def test_the_job_applies_a_declaration_and_counts_and_tells_it(
        committed_rt, committed_client) -> None:  # type: ignore[no-untyped-def]
    """The warnings.run-rules job: the parts first, in their own transactions, then the
    windowed rules; the run's figures and the officials' notice include the parts'."""
    from passtrace.notices.models import Notice
    from passtrace.warnings import jobs

    official = committed_persona(committed_rt, committed_client, "official", "area", "520102")
    risk_id, people, hashes, stranger = _world(committed_rt)
    stats = jobs.run_rules(committed_rt)
    assert stats.scanned_areas >= 1 and stats.new["risk_visit"] >= len(people)
    assert stats.flags_raised >= len(people) and stats.notified >= 1
    _each_flagged_once(committed_rt, people, hashes, stranger)
    with committed_rt.sessions() as session:
        told = session.scalar(select(func.count()).select_from(Notice).where(
            Notice.user_id == official.user_id))
    assert told and told >= 1
    assert _scanned(committed_rt, risk_id).scanned_at is not None


def _failing_once(monkeypatch, part: shards.HashRange) -> None:  # type: ignore[no-untyped-def]
    """`part`'s apply fails the first time (a lost connection, a killed runner)."""
    applied = service.apply_part
    failed: list[shards.HashRange] = []

    def flaky(*, persons, **kw):  # type: ignore[no-untyped-def]
        if persons == part and not failed:
            failed.append(persons)
            raise ConnectionError("lost the connection")
        return applied(persons=persons, **kw)

    monkeypatch.setattr(service, "apply_part", flaky)


def test_a_lift_between_a_failed_apply_and_its_retry_lets_the_retry_finish(
        committed_rt, committed_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the first half's part committed before the second failed; an
    official lifts before the retry. The retry finishes the apply (half the visitors
    yellow and the rest never alerted is right for no declaration); on SQLite nothing
    had committed, so the lifted declaration flags nobody."""
    official = committed_persona(committed_rt, committed_client, "official", "area", "520102")
    risk_id, people, hashes, stranger = _world(committed_rt)
    _failing_once(monkeypatch, shards.split(2)[1])
    with pytest.raises(ConnectionError):
        service.scan_declarations(sessions=committed_rt.sessions, parts=2)
    with committed_rt.sessions() as session:
        risk_areas.lift(session=session, actor=official.principal, risk_id=risk_id,
                        reason="declared in error")
        session.commit()

    service.scan_declarations(sessions=committed_rt.sessions, parts=2)
    if is_postgres(committed_rt):
        _each_flagged_once(committed_rt, people, hashes, stranger)
    else:
        with committed_rt.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Alert).where(
                Alert.person_hash.in_(hashes))) == 0
            assert session.scalar(select(func.count()).select_from(StatusFlag).where(
                StatusFlag.person_id.in_(people))) == 0
    assert _scanned(committed_rt, risk_id).scanned_at is not None


def test_a_failed_part_still_tells_the_officials_of_the_part_that_committed(
        committed_rt, committed_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The job's run fails in the second part: the officials hear of the first part's
    alerts now (the retry finds them made already and starts its notices after them)."""
    from passtrace.notices.models import Notice
    from passtrace.warnings import jobs

    official = committed_persona(committed_rt, committed_client, "official", "area", "520102")
    _risk_id, people, hashes, stranger = _world(committed_rt)
    _failing_once(monkeypatch, shards.split(2)[1])

    def told() -> int:
        with committed_rt.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Notice).where(
                Notice.user_id == official.user_id)) or 0)

    with pytest.raises(ConnectionError):
        jobs.run_rules(committed_rt)
    # PostgreSQL: the first part committed its alerts; SQLite: nothing did.
    assert told() == (1 if is_postgres(committed_rt) else 0)
    jobs.run_rules(committed_rt)
    assert told() == (2 if is_postgres(committed_rt) else 1)
    _each_flagged_once(committed_rt, people, hashes, stranger)
