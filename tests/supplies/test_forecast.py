"""The epidemic-driven forecast: daily need = rate x driver, the drivers counted in the
depot's area, cover divided by the larger of consumption and forecast, and the shortage
alert it raises before consumption catches up (both databases)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.core.clock import local_today
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import set_locale
from passtrace.supplies import cover, forecast, service
from passtrace.supplies.drivers import Drivers
from passtrace.warnings import service as warnings
from passtrace.warnings import supply_drivers
from passtrace.warnings.models import Alert
from tests.supplies import epidemic
from tests.supplies.helpers import depot, item, stock

# clock_stopped (tests/conftest.py): the test works out "today" and the app works it out
# again; one held moment keeps them on the same day at midnight in China (16:00 UTC).
pytestmark = pytest.mark.usefixtures("clock_stopped")

AREA, ELSEWHERE = "520111", "520112"  # Huaxi; Wudang (its people never count)
FAR = date(2099, 1, 1)


@pytest.fixture
def english():  # type: ignore[no-untyped-def]
    set_locale("en")
    yield
    set_locale("zh_CN")


def _outbreak(session, rt):  # type: ignore[no-untyped-def]
    """3 staff on duty, 4 in quarantine (1 tested), 1 case in isolation in AREA; noise
    that must not count: off-duty, closed sites, other areas, ended quarantines."""
    today = local_today()
    cp = epidemic.checkpoint(session, AREA)
    epidemic.on_duty(session, rt, cp, 3)
    epidemic.on_duty(session, rt, cp, 1, active=False)  # a disabled account
    epidemic.on_duty(session, rt, epidemic.checkpoint(session, AREA, active=False), 2)
    epidemic.on_duty(session, rt, epidemic.checkpoint(session, ELSEWHERE), 5)
    sick = epidemic.case(session, rt, AREA, isolated_on=today - timedelta(days=1))
    epidemic.case(session, rt, AREA, isolated_on=today - timedelta(days=3), status="closed")
    epidemic.case(session, rt, AREA, isolated_on=None)  # not isolated yet
    epidemic.case(session, rt, ELSEWHERE, isolated_on=today)
    epidemic.contacts(session, sick, AREA, 4, until=today + timedelta(days=10), tested=1)
    epidemic.contacts(session, sick, AREA, 2, until=today - timedelta(days=1))  # released
    epidemic.contacts(session, sick, ELSEWHERE, 7, until=today + timedelta(days=10))
    # Colleagues (general contacts) are watched, not quarantined: no kits, no rooms.
    epidemic.contacts(session, sick, AREA, 5, until=today + timedelta(days=10), kind="general")


def test_drivers_are_counted_in_the_depot_area_only(session, rt):
    _outbreak(session, rt)
    assert supply_drivers.count(session, AREA, local_today()) == Drivers(
        staff_on_duty=3, quarantined=4, contacts_to_test=3, cases_in_isolation=1)
    # The city contains both districts.
    assert supply_drivers.count(session, "5201", local_today()) == Drivers(
        staff_on_duty=8, quarantined=11, contacts_to_test=10, cases_in_isolation=2)


def test_forecast_need_sets_the_cover_and_explains_itself(session, rt, english):
    _outbreak(session, rt)
    d, masks, kits = depot(session, area_code=AREA), item(session), item(session, "test_kit")
    stock(session, d, masks, "M", FAR, 200)
    stock(session, d, kits, "K", FAR, 100)
    epidemic.rate(session, masks, "staff_on_duty", 2, shifts=3)
    epidemic.rate(session, masks, "quarantined", 1)
    epidemic.rate(session, masks, "cases_in_isolation", 4)
    epidemic.rate(session, kits, "contacts_to_test", 1)
    by_item = {c.item_id: c for c in cover.covers(session, area_code=AREA)}
    m, k = by_item[masks.id], by_item[kits.id]
    # 3 x 2 x 3 + 4 x 1 + 1 x 4 = 26 a day; nothing issued yet, 200 / 26 = 7.7 < 7 + 3.
    assert m.daily_use == 0 and m.forecast_need == 26 and m.basis == "forecast"
    assert m.days_of_cover == pytest.approx(200 / 26) and m.short
    assert m.explain() == ("forecast: 3 staff on duty × 2 只 per shift × 3 shifts + "
                           "4 people in quarantine × 1 只 a day + "
                           "1 cases in isolation × 4 只 a day = 26 只 a day")
    # 3 contacts still to test x 1 kit: 100 / 3 = 33 days, not short.
    assert k.forecast_need == 3 and k.days_of_cover == pytest.approx(100 / 3) and not k.short


def test_consumption_wins_when_it_is_larger(session, rt, english):
    d, masks = depot(session, area_code=AREA), item(session)
    stock(session, d, masks, "M", FAR, 1000)
    service.issue(session=session, actor=None, depot_id=d.id, item_id=masks.id,
                  quantity=140, consumer="卡口")  # 10 a day over 14 days
    epidemic.rate(session, masks, "quarantined", 1)
    epidemic.contacts(session, epidemic.case(session, rt, AREA, isolated_on=None), AREA, 4,
                      until=local_today())
    c = cover.one(session, depot=d, item=masks)
    assert (c.daily_use, c.forecast_need, c.basis) == (10, 4, "consumption")
    assert c.days_of_cover == 86
    assert c.explain() == "consumption: 10.0 只 a day (average of issues over 14 days)"


def test_quarantined_contacts_raise_the_alert_before_consumption_catches_up(session, rt):
    d, masks = depot(session, area_code=AREA), item(session)
    stock(session, d, masks, "M", FAR, 1000)
    service.issue(session=session, actor=None, depot_id=d.id, item_id=masks.id,
                  quantity=70, consumer="卡口")  # 5 a day: 930 left = 186 days
    epidemic.rate(session, masks, "quarantined", 2)
    assert warnings.run(session=session, settings=rt.settings).new.get("supply_shortage",
                                                                        0) == 0
    # 200 contacts put in quarantine today: 400 masks a day, 930 / 400 = 2.3 days.
    epidemic.contacts(session, epidemic.case(session, rt, AREA, isolated_on=None), AREA, 200,
                      until=local_today() + timedelta(days=14))
    assert warnings.run(session=session, settings=rt.settings).new["supply_shortage"] == 1
    [alert] = session.scalars(select(Alert).where(Alert.rule_code == "supply_shortage")).all()
    ev = alert.evidence
    assert (ev["basis"], ev["forecast_need"], ev["days_of_cover"]) == ("forecast", 400, 2.3)
    assert ev["forecast"] == [{"driver": "quarantined", "count": 200, "rate": 2.0,
                               "periods_per_day": 1}]
    assert warnings.run(session=session, settings=rt.settings).new.get("supply_shortage",
                                                                        0) == 0
    assert session.scalars(select(Alert).where(Alert.rule_code == "supply_shortage")
                           ).all() == [alert]


def test_rate_changes_are_audited_with_before_and_after(session):
    masks = item(session)
    epidemic.rate(session, masks, "staff_on_duty", 2, shifts=3)
    epidemic.rate(session, masks, "staff_on_duty", 1.5, shifts=2)
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "supplies.rate.set", AuditEntry.resource_id == str(masks.id))
        .order_by(AuditEntry.id)).all()
    assert [e.detail["before"] for e in entries] == [None, [2.0, 3]]
    assert entries[-1].detail["after"] == [1.5, 2]
    assert [(r.rate, r.periods_per_day) for r in forecast.rates_of(session, [masks.id])[
        masks.id]] == [(1.5, 2)]


@pytest.mark.parametrize(("driver", "value", "shifts"), [
    ("staff_on_duty", -1, 3), ("staff_on_duty", 2, 5), ("quarantined", 1, 3),
    ("visitors", 1, 1)])
def test_bad_rates_are_refused_and_change_nothing(session, driver, value, shifts):
    masks = item(session)
    with pytest.raises(ValidationFailed):
        epidemic.rate(session, masks, driver, value, shifts)
    assert forecast.rates_of(session, [masks.id]) == {}


def test_rates_and_forecast_through_the_api(client, make_persona, session, rt):
    _outbreak(session, rt)
    officer = make_persona("supplies_officer", "area", AREA)
    public = make_persona("public")
    d, masks = depot(session, area_code=AREA), item(session)
    stock(session, d, masks, "M", FAR, 260)
    session.commit()
    url = f"/api/v1/supplies/items/{masks.id}/rates"
    resp = client.put(f"{url}/staff_on_duty", headers=officer.headers,
                      json={"rate": 2, "periods_per_day": 3})
    assert resp.status_code == 200, resp.text
    assert client.put(f"{url}/staff_on_duty", headers=public.headers,
                      json={"rate": 9}).status_code == 403
    bad = client.put(f"{url}/quarantined", headers=officer.headers,
                     json={"rate": 1, "periods_per_day": 3})
    assert bad.status_code == 422 and "班" in bad.text, bad.text  # translated, zh_CN
    assert client.put(f"{url}/visitors", headers=officer.headers,
                      json={"rate": 1}).status_code == 422
    assert client.get(url, headers=officer.headers).json()["items"] == [
        {"item_id": str(masks.id), "driver": "staff_on_duty", "rate": 2.0,
         "periods_per_day": 3}]
    body = client.get(f"/api/v1/supplies/depots/{d.id}/forecast/{masks.id}",
                      headers=officer.headers).json()
    assert body["cover"]["forecast_need"] == 18 and body["cover"]["basis"] == "forecast"
    assert body["cover"]["days_of_cover"] == pytest.approx(260 / 18)
    [term] = body["terms"]
    assert (term["driver"], term["count"], term["need"]) == ("staff_on_duty", 3, 18)
    assert "3" in term["explanation"] and "staff_on_duty" not in term["explanation"]
    outsider = make_persona("supplies_officer", "area", ELSEWHERE)
    assert client.get(f"/api/v1/supplies/depots/{d.id}/forecast/{masks.id}",
                      headers=outsider.headers).status_code == 404


def test_a_process_that_did_not_wire_the_drivers_fails_instead_of_forecasting_zero(
        session, monkeypatch):
    from passtrace.supplies import drivers

    d, masks = depot(session, area_code=AREA), item(session)
    stock(session, d, masks, "M", FAR, 10)
    assert cover.one(session, depot=d, item=masks).days_of_cover is None  # no rates: fine
    epidemic.rate(session, masks, "quarantined", 1)
    monkeypatch.setattr(drivers, "_source", None)
    with pytest.raises(drivers.DriversNotWired):
        cover.covers(session, area_code=AREA)


def test_only_an_officer_over_every_depot_may_change_a_rate(client, make_persona, session):
    # A rate counts at every depot: a district officer would change other districts'
    # cover. Refused with a translated message, and the rate is left as it was.
    masks = item(session)
    depot(session, area_code=AREA)
    depot(session, area_code=ELSEWHERE)
    session.commit()
    url = f"/api/v1/supplies/items/{masks.id}/rates/quarantined"
    district = make_persona("supplies_officer", "area", AREA)
    refused = client.put(url, headers=district.headers, json={"rate": 5})
    assert refused.status_code == 403 and "每个" in refused.json()["error"]["message"]
    keeper = make_persona("supplies_officer", "depot", "SOMEWHERE")
    assert client.put(url, headers=keeper.headers, json={"rate": 5}).status_code == 403
    assert forecast.rates_of(session, [masks.id]) == {}
    city = make_persona("supplies_officer", "area", "520100")
    assert client.put(url, headers=city.headers, json={"rate": 5}).status_code == 200
    session.expire_all()
    [rate] = forecast.rates_of(session, [masks.id])[masks.id]
    assert rate.rate == 5
    assert session.scalars(select(AuditEntry).where(
        AuditEntry.action == "supplies.rate.set",
        AuditEntry.resource_id == str(masks.id))).one().actor_name == city.user.username


def test_a_depot_nested_in_another_takes_its_own_drivers_and_they_are_not_counted_twice(
        session, rt):
    # A district warehouse and a street checkpoint depot inside its area: the street's
    # staff drive the street depot's forecast only, not both (5 people, not 7 needs).
    street = AREA + "001"
    district_depot = depot(session, area_code=AREA)
    street_depot = depot(session, "checkpoint", area_code=street)
    masks = item(session)
    epidemic.on_duty(session, rt, epidemic.checkpoint(session, street), 2)
    epidemic.on_duty(session, rt, epidemic.checkpoint(session, AREA), 3)
    epidemic.rate(session, masks, "staff_on_duty", 1)

    def staff(d):  # type: ignore[no-untyped-def]
        found = cover.one(session, depot=d, item=masks).forecast
        assert found is not None
        return {t.driver: t.count for t in found.terms}["staff_on_duty"]

    assert staff(street_depot) == 2
    assert staff(district_depot) == 3
    # The area's list (depots with stock) agrees with the one-depot view.
    stock(session, district_depot, masks, "N1", FAR, 10)
    stock(session, street_depot, masks, "N2", FAR, 10)
    listed = {c.depot_id: c.forecast for c in cover.covers(session, area_code=AREA)}
    assert [t.count for t in listed[district_depot.id].terms] == [3]  # type: ignore[union-attr]
    assert [t.count for t in listed[street_depot.id].terms] == [2]  # type: ignore[union-attr]
