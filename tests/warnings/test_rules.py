"""Each windowed rule on both databases: known answers, boundaries, idempotent re-runs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from passtrace.areas.models import AreaRisk
from passtrace.core.clock import freeze, local_midnight
from passtrace.enterprises.models import Employee
from passtrace.registrations.imports import import_id
from passtrace.registrations.models import Registration
from passtrace.tracing.models import Contact, ReportFinding
from passtrace.warnings import engine, registry
from passtrace.warnings.models import Alert, RuleSetting
from tests.tracing import world
from tests.tracing.world import T0

DAY = date(2026, 11, 10)  # T0 is 10:00 local on this day


def alerts(session, rule: str) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.rule_code == rule)
                                .order_by(Alert.id)))


def run(session, day: date = DAY) -> dict[str, int]:
    return engine.run_day(session=session, day=day)


def test_fever_uses_each_sites_own_threshold_and_one_alert_per_person_and_day(session, rt):
    strict = world.site(session)
    strict.fever_threshold = 37.0
    lax = world.site(session)  # default threshold 37.3
    a, b, c = (world.person(session, rt) for _ in range(3))
    world.reg(session, strict, a.id_hash, T0).temperature = 37.0      # at the threshold
    world.reg(session, lax, b.id_hash, T0).temperature = 37.2         # under 37.3
    world.reg(session, lax, c.id_hash, T0).temperature = 38.1
    world.reg(session, lax, c.id_hash, T0 + timedelta(hours=1)).temperature = 38.4
    # The next local day starts at 16:00 UTC: this one belongs to 11-11.
    world.reg(session, lax, b.id_hash, datetime(2026, 11, 10, 16, 0, tzinfo=UTC)
              ).temperature = 39.0
    session.flush()
    assert run(session)["checkpoint_fever"] == 2
    got = {x.person_hash: x for x in alerts(session, "checkpoint_fever")}
    assert set(got) == {a.id_hash, c.id_hash}
    assert got[c.id_hash].evidence["temperature"] == 38.1  # the day's first reading
    assert got[c.id_hash].subject_masked == c.name_masked
    assert got[a.id_hash].severity == "high" and got[a.id_hash].queue_area == world.AREA
    assert run(session)["checkpoint_fever"] == 0  # re-run: nothing new
    assert run(session, DAY + timedelta(days=1))["checkpoint_fever"] == 1


def test_report_with_symptoms(session, rt):
    _, dep = world.enterprise(session)
    ill, well = world.person(session, rt), world.person(session, rt)
    world.report(session, dep, ill, DAY).flagged = True
    world.report(session, dep, well, DAY)
    session.flush()
    assert run(session)["report_symptoms"] == 1
    assert [x.person_hash for x in alerts(session, "report_symptoms")] == [ill.id_hash]
    assert run(session)["report_symptoms"] == 0


def _risk(session, code: str, start: datetime, until: datetime | None = None) -> AreaRisk:
    r = AreaRisk(area_code=code, area_prefix=code, level="high", valid_from=start,
                 valid_until=until, scanned_at=start)
    session.add(r)
    session.flush()
    return r


def test_risk_visit_by_registration_or_reported_stop_inside_the_window(session, rt):
    inside = world.site(session, area="520102001")
    outside = world.site(session, area="520102002")
    _risk(session, "520102001", T0 - timedelta(hours=1), T0 + timedelta(hours=2))
    _, dep = world.enterprise(session)
    visitor, early, elsewhere, reporter = (world.person(session, rt) for _ in range(4))
    world.reg(session, inside, visitor.id_hash, T0)
    world.reg(session, inside, early.id_hash, T0 - timedelta(hours=2))  # before the risk
    world.reg(session, outside, elsewhere.id_hash, T0)
    world.report(session, dep, reporter, DAY, stops=[{"area": "520102001003", "at": T0}])
    assert run(session)["risk_visit"] == 2
    assert {x.person_hash for x in alerts(session, "risk_visit")} == {
        visitor.id_hash, reporter.id_hash}
    assert run(session)["risk_visit"] == 0


def visit(session, site, person_hash: str, at: datetime) -> None:
    """A registration with a device's id (UUIDv7 of when it occurred): the declaration's
    scan bounds the ids from below (registrations/lookback.py)."""
    session.add(Registration(id=import_id(uuid.uuid4().hex, at), site_id=site.id, lane="1",
                             device_key="d", occurred_at=at, received_at=at,
                             direction="through", method="qr", person_hash=person_hash,
                             decision="allow"))
    session.flush()


def test_declaring_an_area_raises_one_alert_per_person_with_the_visits_as_evidence(
        session, rt):
    declared = T0 + timedelta(days=3)  # 10:00 local on 11-13: the look-back starts 10-31
    first_midnight = local_midnight(DAY + timedelta(days=3) - timedelta(days=13))
    freeze(declared)
    try:
        inside = world.site(session, area="520102001")
        elsewhere = world.site(session, area="520102002")
        _, dep = world.enterprise(session)
        recent, edge, early, old, other = (world.person(session, rt) for _ in range(5))
        visit(session, inside, recent.id_hash, T0 - timedelta(days=10))
        visit(session, inside, recent.id_hash, T0)
        visit(session, inside, recent.id_hash, T0 + timedelta(hours=1))
        world.report(session, dep, recent, DAY,
                     stops=[{"area": "520102001004", "at": T0 + timedelta(hours=3)}])
        visit(session, inside, edge.id_hash, first_midnight)  # the window's first instant
        visit(session, inside, early.id_hash, first_midnight - timedelta(seconds=1))
        visit(session, inside, old.id_hash, T0 - timedelta(days=15))
        visit(session, elsewhere, other.id_hash, T0)
        risk = _risk(session, "520102001", declared)
        assert engine.scan_declared(session=session, risk=risk) == 2
        got = {x.person_hash: x for x in alerts(session, "risk_visit")}
        assert set(got) == {recent.id_hash, edge.id_hash}
        mine = got[recent.id_hash]
        # One alert for the declaration, on its day; the visits are its evidence.
        assert mine.day == DAY + timedelta(days=3) and mine.area_code == "520102001"
        assert mine.evidence["visits"] == 4
        assert sorted(mine.evidence["days"]) == ["2026-10-31", "2026-11-10"]
        assert mine.evidence["risk"] == str(risk.id)
        assert uuid.UUID(mine.evidence["site"]) == inside.id  # the first visit's site
        assert got[edge.id_hash].evidence["days"] == ["2026-10-31"]
        assert engine.scan_declared(session=session, risk=risk) == 0  # re-run: nothing new
        session.add(RuleSetting(code="risk_visit", severity="medium", params={"days": 20},
                                updated_at=T0))
        session.flush()
        assert engine.scan_declared(session=session, risk=risk) == 2  # now reaches two more
        assert {x.person_hash for x in alerts(session, "risk_visit")} == {
            recent.id_hash, edge.id_hash, early.id_hash, old.id_hash}
    finally:
        freeze(None)


def test_a_visit_after_the_declaration_on_its_day_adds_no_second_alert(session, rt):
    declared = T0 + timedelta(days=3)
    freeze(declared)
    try:
        inside = world.site(session, area="520102001")
        visitor, newcomer = world.person(session, rt), world.person(session, rt)
        visit(session, inside, visitor.id_hash, T0)
        risk = _risk(session, "520102001", declared)
        assert engine.scan_declared(session=session, risk=risk) == 1
    finally:
        freeze(None)
    freeze(declared + timedelta(hours=2))
    try:
        visit(session, inside, visitor.id_hash, declared + timedelta(hours=1))
        visit(session, inside, newcomer.id_hash, declared + timedelta(hours=1))
        # The windowed run of the declaration's day: the person already alerted for the
        # declaration gets nothing more; someone new does.
        assert run(session, DAY + timedelta(days=3))["risk_visit"] == 1
        assert {x.person_hash for x in alerts(session, "risk_visit")} == {
            visitor.id_hash, newcomer.id_hash}
    finally:
        freeze(None)


def test_close_and_secondary_contacts(session, rt):
    patient = world.person(session, rt)
    case = world.case(session, patient)
    close, second = world.person(session, rt), world.person(session, rt)
    first = Contact(case_id=case.id, person_hash=close.id_hash, person_id=close.id,
                    kind="close", depth=1, first_exposure=T0, last_exposure=T0,
                    quarantine_until=DAY + timedelta(days=14), area_code=world.AREA,
                    found_at=T0)
    session.add(first)
    session.flush()
    session.add(Contact(case_id=case.id, person_hash=second.id_hash, person_id=second.id,
                        kind="secondary", depth=2, via_contact_id=first.id,
                        first_exposure=T0, last_exposure=T0,
                        quarantine_until=DAY + timedelta(days=14), area_code=world.AREA,
                        found_at=T0))
    session.flush()
    assert run(session)["contacts"] == 2
    [c] = alerts(session, "close_contact")
    assert c.person_hash == close.id_hash and c.evidence["until"] == "2026-11-24"
    assert [x.person_hash for x in alerts(session, "secondary_contact")] == [second.id_hash]
    assert run(session)["contacts"] == 0


def test_pass_misuse_revoked_expired_and_outside_its_areas(session, rt):
    s = world.site(session)
    revoked, expired, outside, fine = (world.person(session, rt) for _ in range(4))
    for p, reasons in ((revoked, ["revoked"]), (expired, ["fever", "expired"]),
                       (outside, ["area_not_allowed"]), (fine, ["fever"])):
        r = world.reg(session, s, p.id_hash, T0, decision="deny")
        r.reasons = reasons
    session.flush()
    counts = run(session)
    assert counts["pass_invalid"] == 2 and counts["pass_outside_area"] == 1
    assert {x.person_hash for x in alerts(session, "pass_invalid")} == {
        revoked.id_hash, expired.id_hash}
    assert run(session)["pass_invalid"] == 0


def _at(session, lat: float, lon: float):
    s = world.site(session)
    s.latitude, s.longitude = lat, lon
    return s


def test_impossible_travel_over_the_speed_bound(session, rt):
    # Guiyang city centre and a site 0.9 degrees of latitude north (~100 km).
    a, b = _at(session, 26.6, 106.7), _at(session, 27.5, 106.7)
    fast, slow = world.person(session, rt), world.person(session, rt)
    world.reg(session, a, fast.id_hash, T0)
    world.reg(session, b, fast.id_hash, T0 + timedelta(minutes=40))  # 150 km/h
    world.reg(session, a, slow.id_hash, T0)
    world.reg(session, b, slow.id_hash, T0 + timedelta(minutes=60))  # 100 km/h
    session.flush()
    assert run(session)["impossible_travel"] == 1
    [x] = alerts(session, "impossible_travel")
    assert x.person_hash == fast.id_hash and 99 < x.evidence["km"] < 101
    session.add(RuleSetting(code="impossible_travel", severity="high",
                            params={"speed_kmh": 90}, updated_at=T0))
    session.flush()
    assert run(session)["impossible_travel"] == 1  # slow is now over the bound; fast is not new


def test_one_pass_at_two_sites_at_once(session, rt):
    a, b = world.site(session), world.site(session)
    p, q = world.person(session, rt), world.person(session, rt)
    pass_p, pass_q = uuid.uuid4(), uuid.uuid4()
    world.reg(session, a, p.id_hash, T0).pass_id = pass_p
    world.reg(session, b, p.id_hash, T0 + timedelta(minutes=5)).pass_id = pass_p  # boundary
    world.reg(session, a, q.id_hash, T0).pass_id = pass_q
    world.reg(session, b, q.id_hash, T0 + timedelta(minutes=6)).pass_id = pass_q
    session.flush()
    assert run(session)["pass_two_sites"] == 1
    assert [x.person_hash for x in alerts(session, "pass_two_sites")] == [p.id_hash]


def test_missing_reports_k_days_running(session, rt):
    _, dep = world.enterprise(session)
    never, once, daily = (world.person(session, rt) for _ in range(3))
    for p in (never, once, daily):
        session.add(Employee(enterprise_id=dep.enterprise_id, department_id=dep.id,
                             person_id=p.id, created_at=T0 - timedelta(days=30)))
    session.flush()
    world.report(session, dep, once, DAY - timedelta(days=1))  # yesterday only
    world.report(session, dep, daily, DAY)
    assert run(session)["missing_reports"] == 1
    assert [x.person_hash for x in alerts(session, "missing_reports")] == [never.id_hash]
    # The next day: "never" again (a new day's alert) and "once", now 2 days running.
    assert run(session, DAY + timedelta(days=1))["missing_reports"] == 2
    assert run(session, DAY + timedelta(days=1))["missing_reports"] == 0


def test_trajectory_findings(session, rt):
    _, dep = world.enterprise(session)
    liar, honest = world.person(session, rt), world.person(session, rt)
    for p, cls in ((liar, "unreported_visit"), (honest, "corroborated")):
        r = world.report(session, dep, p, DAY)
        session.add(ReportFinding(id=uuid.uuid4(), report_id=r.id, finding_class=cls,
                                  computed_at=T0))
    session.flush()
    assert run(session)["trajectory_mismatch"] == 1
    assert [x.person_hash for x in alerts(session, "trajectory_mismatch")] == [liar.id_hash]


def test_a_disabled_rule_does_not_run(session, rt):
    s = world.site(session)
    world.reg(session, s, world.person(session, rt).id_hash, T0).temperature = 39.0
    session.add(RuleSetting(code="checkpoint_fever", severity="high", enabled=False,
                            params={}, updated_at=T0))
    session.flush()
    assert "checkpoint_fever" not in run(session)
    assert session.scalar(select(func.count()).select_from(Alert)) == 0
    assert registry.effective(session=session)["checkpoint_fever"].enabled is False
