"""Status effects through health.raise_flag, and escalation with notices through the outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from passtrace.areas.models import AreaRisk
from passtrace.core import clock
from passtrace.core.clock import local_midnight
from passtrace.core.outbox import OutboxMessage
from passtrace.health.models import StatusFlag
from passtrace.jobs.delivery import deliver_due
from passtrace.notices.models import Notice
from passtrace.notices.service import standard_notifier
from passtrace.people.models import Person
from passtrace.registrations.imports import import_id
from passtrace.registrations.models import Registration
from passtrace.tracing.models import Contact
from passtrace.warnings import alerts, present, risk_areas, service
from passtrace.warnings.models import Alert
from tests.jobs.gateway import Gateway, free_port, with_gateways
from tests.tracing import world as tw

# clock_stopped (tests/conftest.py): the test works out "today" and the app works it out
# again; one held moment keeps them on the same day at midnight in China (16:00 UTC).
pytestmark = pytest.mark.usefixtures("clock_stopped")


def _status(session, person) -> str:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(Person, person.id).status


def test_a_close_contact_turns_red_until_quarantine_ends_once(session, rt):  # type: ignore[no-untyped-def]
    now = clock.utcnow()
    patient, contact = tw.person(session, rt), tw.person(session, rt)
    case = tw.case(session, patient, start=now - timedelta(days=2), end=now)
    until = clock.local_today() + timedelta(days=10)
    session.add(Contact(case_id=case.id, person_hash=contact.id_hash, person_id=contact.id,
                        kind="close", depth=1, first_exposure=now, last_exposure=now,
                        quarantine_until=until, area_code="520102", found_at=now))
    session.flush()
    first = service.run(session=session, settings=rt.settings)
    assert first.flags_raised == 1 and _status(session, contact) == "red"
    [flag] = session.scalars(select(StatusFlag).where(StatusFlag.person_id == contact.id))
    assert flag.until == local_midnight(until + timedelta(days=1))
    assert flag.reason == "close_contact"
    again = service.run(session=session, settings=rt.settings)
    assert again.flags_raised == 0 and again.total == 0


def _declare(session, code: str):  # type: ignore[no-untyped-def]
    risk = AreaRisk(area_code=code, area_prefix=code, level="high",
                    valid_from=clock.utcnow(), note="test")
    session.add(risk)
    session.flush()
    return risk


def test_a_declared_area_turns_its_recent_visitors_yellow_once(session, rt):  # type: ignore[no-untyped-def]
    now = clock.utcnow()
    inside, elsewhere = tw.site(session, area="520102001"), tw.site(session, area="520102002")
    visitor, stranger = tw.person(session, rt), tw.person(session, rt)
    for back in (1, 3, 5):  # three days: one alert, one flag
        session.add(Registration(
            id=import_id(uuid.uuid4().hex, now - timedelta(days=back)), site_id=inside.id,
            lane="1", device_key="d", occurred_at=now - timedelta(days=back),
            received_at=now, direction="through", method="qr",
            person_hash=visitor.id_hash, decision="allow"))
    session.add(Registration(id=import_id(uuid.uuid4().hex, now), site_id=elsewhere.id,
                             lane="1", device_key="d", occurred_at=now - timedelta(hours=1),
                             received_at=now, direction="through", method="qr",
                             person_hash=stranger.id_hash, decision="allow"))
    _declare(session, "520102001")
    first = service.run(session=session, settings=rt.settings)
    assert first.scanned_areas == 1 and first.flags_raised == 1
    assert _status(session, visitor) == "yellow" and _status(session, stranger) == "green"
    [alert] = session.scalars(select(Alert).where(Alert.rule_code == "risk_visit"))
    assert alert.evidence["visits"] == 3 and len(alert.evidence["days"]) == 3
    # The queue explains it with the visits, not one day's visit.
    text = present.explanation(alert, {}, {"520102001": "花果园"})
    assert "花果园" in text and "3" in text
    assert all(d[5:] in text for d in alert.evidence["days"]), text
    [flag] = session.scalars(select(StatusFlag).where(StatusFlag.person_id == visitor.id))
    assert flag.reason == "risk_area_visit" and flag.area_code == "520102001"
    again = service.run(session=session, settings=rt.settings)
    assert again.flags_raised == 0 and again.total == 0


def test_a_declaration_lifted_before_its_scan_flags_nobody(session, rt, make_persona):  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102")
    now = clock.utcnow()
    inside, visitor = tw.site(session, area="520102001"), tw.person(session, rt)
    session.add(Registration(id=import_id(uuid.uuid4().hex, now), site_id=inside.id,
                             lane="1", device_key="d", occurred_at=now - timedelta(days=2),
                             received_at=now, direction="through", method="qr",
                             person_hash=visitor.id_hash, decision="allow"))
    risk = _declare(session, "520102001")
    risk_areas.lift(session=session, actor=official.principal, risk_id=risk.id,
                    reason="declared in error")
    stats = service.run(session=session, settings=rt.settings)
    assert stats.scanned_areas == 1 and stats.total == 0 and stats.flags_raised == 0
    assert _status(session, visitor) == "green"
    assert service.run(session=session, settings=rt.settings).scanned_areas == 0


def test_fever_is_yellow_until_an_official_records_a_negative_test(session, rt, make_persona):  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102")
    site = tw.site(session)
    feverish, symptoms_only = tw.person(session, rt), tw.person(session, rt)
    tw.reg(session, site, feverish.id_hash, clock.utcnow()).temperature = 38.0
    _, dep = tw.enterprise(session)
    r = tw.report(session, dep, symptoms_only, clock.local_today())
    r.flagged, r.symptoms = True, ["cough"]
    session.flush()
    stats = service.run(session=session, settings=rt.settings)
    assert stats.new["checkpoint_fever"] == 1 and stats.new["report_symptoms"] == 1
    assert _status(session, feverish) == "yellow"
    assert _status(session, symptoms_only) == "green"  # symptoms alone: an alert, no flag
    alert = session.scalar(select(Alert).where(Alert.person_hash == feverish.id_hash))
    alerts.resolve(session=session, actor=official.principal, alert_id=alert.id,
                   resolution="negative", note="核酸阴性")
    assert _status(session, feverish) == "green"


def test_an_unacknowledged_alert_escalates_and_the_city_hears_through_the_webhook(
        session, rt, make_persona):  # type: ignore[no-untyped-def]
    city = make_persona("official", "area", "520100", name="市指挥部")
    district = make_persona("official", "area", "520102", name="南明疾控")
    gateway = Gateway(port=free_port(), fail_first=1)  # fails once, then recovers
    gateway.start()
    try:
        rt.settings = with_gateways(rt.settings, webhook=gateway)
        raised = clock.utcnow() - timedelta(minutes=61)
        assert service.raise_alert(session=session, rule_code="checkpoint_fever",
                                   subject_kind="person", subject_key="e" * 64,
                                   person_hash="e" * 64, area_code="520102",
                                   evidence={"temperature": 38.5})
        session.flush()
        alert = session.scalar(select(Alert).where(Alert.subject_key == "e" * 64))
        alert.created_at = raised
        acked = session.scalar(select(Alert).where(Alert.subject_key == "e" * 64))
        session.flush()
        notifier = standard_notifier(session, rt.settings)
        # Not yet past the SLA one minute earlier: nothing moves.
        assert alerts.escalate_overdue(session=session, settings=rt.settings,
                                       notifier=notifier,
                                       now=raised + timedelta(minutes=59)) == 0
        assert alerts.escalate_overdue(session=session, settings=rt.settings,
                                       notifier=notifier) == 1
        session.refresh(acked)
        assert acked.queue_area == "520100" and acked.escalations == 1
        # Twice in a row escalates once: the SLA counts again from the escalation.
        assert alerts.escalate_overdue(session=session, settings=rt.settings,
                                       notifier=notifier) == 0
        notices = list(session.scalars(select(Notice).where(Notice.kind == "alert.escalated")))
        assert [n.user_id for n in notices] == [city.user.id]  # not the district's official
        assert district.user.id not in [n.user_id for n in notices]
        session.commit()
        assert deliver_due(rt).retrying == 1  # the gateway fails the first call
        assert deliver_due(rt).sent == 1
        assert len(gateway.received) == 1 and "升级" in gateway.received[0]["text"]
        session.expire_all()
        [row] = session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("notice:alert:%")))
        assert row.processed_at is not None
    finally:
        gateway.stop()
