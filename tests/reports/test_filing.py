"""Filing reports: validation, idempotency, one-tap filing, deadlines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.reports.conftest import commute, file, local, new_id


def test_a_full_report_is_stored_with_ordered_stops(client, world):
    alice = world.staff["alice"].persona
    resp = file(client, alice, world.today)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert [s["seq"] for s in body["stops"]] == [1, 2, 3]
    assert body["stops"][1]["mode"] == "metro"
    assert body["late"] is True  # 19:00 is after the 09:30 deadline
    assert body["temperature"] == 36.5


def test_before_the_deadline_is_on_time(client, world, frozen):
    frozen(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # 09:00 China time
    day = world.today
    stops = commute(day)[:2]
    stops[1]["arrive_at"] = local(day, "08:40")
    stops[1].pop("depart_at")
    resp = file(client, world.staff["alice"].persona, day, stops=stops)
    assert resp.status_code == 201, resp.text
    assert resp.json()["late"] is False


def test_a_retried_submit_never_duplicates(client, world, session):
    from sqlalchemy import func, select

    from passtrace.reports.models import DailyReport

    alice = world.staff["alice"].persona
    rid = new_id()
    first = file(client, alice, world.today, id=rid)
    again = file(client, alice, world.today, id=rid)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == rid
    # A second submission without the id amends the same report.
    amended = file(client, alice, world.today, temperature=36.8)
    assert amended.status_code == 200 and amended.json()["id"] == rid
    assert amended.json()["temperature"] == 36.8 and amended.json()["amended_at"]
    assert session.scalar(select(func.count()).select_from(DailyReport)) == 1


def test_someone_elses_report_id_is_a_conflict(client, world):
    rid = new_id()
    assert file(client, world.staff["alice"].persona, world.today, id=rid).status_code == 201
    resp = file(client, world.staff["bob"].persona, world.today, id=rid)
    assert resp.status_code == 409


@pytest.mark.parametrize(("change", "field", "fragment"), [
    (lambda s: s[1].update(depart_at=s[1]["arrive_at"].replace("08:40", "08:00")),
     "stops[1].depart_at", "departure"),
    (lambda s: s[1].update(arrive_at=s[1]["arrive_at"].replace("08:40", "07:30")),
     "stops[1].arrive_at", "previous"),
    (lambda s: s[1].update(mode="train", ref="X123"), "stops[1].ref", "train number"),
    (lambda s: s[1].update(mode="train", ref="G1234", seat="12"), "stops[1].seat", "seat"),
    (lambda s: s[1].update(mode="flight", ref="CAX1832"), "stops[1].ref", "flight number"),
    (lambda s: s[1].update(mode="flight", ref="CA1832", seat="A32"), "stops[1].seat", "seat"),
    (lambda s: s[1].update(mode="car", ref="ABC"), "stops[1].ref", "plate"),
    (lambda s: s[1].update(mode="car"), "stops[1].ref", "plate"),
    (lambda s: s[1].update(mode=None), "stops[1].mode", "previous stop"),
    (lambda s: s[0].update(mode="walk"), "stops[0].mode", "first stop"),
    (lambda s: s[1].update(area_code="520199999"), "stops[1].area_code", "unknown area"),
    (lambda s: s[0].pop("depart_at"), "stops[0].depart_at", "only the last"),
])
def test_stop_mistakes_are_named(client, world, change, field, fragment):
    stops = commute(world.today)
    change(stops)
    resp = file(client, world.staff["alice"].persona, world.today, stops=stops)
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert field in err["fields"], err
    assert fragment in err["fields"][field].lower() or fragment in err["message"].lower()


@pytest.mark.parametrize("ref,seat", [("G1234", "05车12F"), ("D21", "5-3A"), ("K9", None),
                                      ("6063", "12-无座"), ("Z1", "1车1")])
def test_good_train_tickets(client, world, ref, seat):
    stops = commute(world.today)
    stops[1].update(mode="train", ref=ref, seat=seat)
    assert file(client, world.staff["alice"].persona, world.today,
                stops=stops).status_code == 201


@pytest.mark.parametrize("ref", ["CA1832", "3U8888", "MU5101", "G54321"[:5], "ca 1832"])
def test_good_flight_numbers(client, world, ref):
    stops = commute(world.today)
    stops[1].update(mode="flight", ref=ref, seat="32A")
    resp = file(client, world.staff["alice"].persona, world.today, stops=stops)
    assert resp.status_code == 201, resp.text


def test_health_and_date_checks(client, world):
    alice = world.staff["alice"].persona
    for temp in (33.9, 42.6):
        resp = file(client, alice, world.today, temperature=temp)
        assert resp.status_code == 422 and "temperature" in resp.json()["error"]["fields"]
    future = file(client, alice, world.today + timedelta(days=1))
    assert future.status_code == 422 and "report_date" in future.json()["error"]["fields"]
    old = file(client, alice, world.today - timedelta(days=10))
    assert old.status_code == 422 and "report_date" in old.json()["error"]["fields"]
    home_with_stops = file(client, alice, world.today, stayed_home=True)
    assert home_with_stops.status_code == 422
    nothing = file(client, alice, world.today, stops=[])
    assert nothing.status_code == 422


def test_errors_are_translated(client, world):
    alice = world.staff["alice"].persona
    resp = client.post("/api/v1/reports", json={"temperature": 45},
                       headers={**alice.headers, "Accept-Language": "zh-CN"})
    assert resp.status_code == 422
    assert "体温" in resp.json()["error"]["message"]


def test_stayed_home_and_same_as_yesterday(client, world):
    alice = world.staff["alice"].persona
    yesterday = world.today - timedelta(days=1)
    no_copy = client.post("/api/v1/reports/quick", headers=alice.headers,
                          json={"kind": "same_as_yesterday", "temperature": 36.4})
    assert no_copy.status_code == 409
    stops = commute(yesterday)
    stops[1].update(mode="train", ref="G1234", seat="05车12F")
    assert file(client, alice, yesterday, stops=stops).status_code == 201
    same = client.post("/api/v1/reports/quick", headers=alice.headers,
                       json={"kind": "same_as_yesterday", "temperature": 36.4})
    assert same.status_code == 201, same.text
    body = same.json()
    assert body["source"] == "same_as_yesterday" and body["report_date"] == str(world.today)
    assert [s["ref"] for s in body["stops"]] == [None, "G1234", None]
    assert body["stops"][1]["seat"] == "05-12F"
    assert body["stops"][0]["depart_at"].startswith(str(world.today))
    home = client.post("/api/v1/reports/quick", headers=world.staff["bob"].persona.headers,
                       json={"kind": "stayed_home", "temperature": 36.6})
    assert home.status_code == 201 and home.json()["stayed_home"] and not home.json()["stops"]


def test_an_account_without_an_employer_cannot_file(client, make_persona, world):
    stranger = make_persona("public")
    resp = file(client, stranger, world.today)
    assert resp.status_code == 409


def test_a_stop_that_has_not_ended_yet_is_refused_naming_the_field(client, world, frozen):
    # 00:41 China time: a whole working day (07:30–20:00) is still to come.
    frozen(datetime(2026, 11, 19, 16, 41, tzinfo=UTC))
    day = world.today
    alice = world.staff["alice"].persona
    home = {"area_code": "520102006001", "place": "家", "arrive_at": local(day, "00:00"),
            "depart_at": local(day, "07:30")}
    office = {"area_code": "520103003", "place": "公司", "arrive_at": local(day, "07:50"),
              "depart_at": local(day, "20:00"), "mode": "metro"}
    resp = file(client, alice, day, stops=[home, office])
    assert resp.status_code == 422, resp.text
    assert "stops[0].depart_at" in resp.json()["error"]["fields"]
    # Still at home, no departure yet: that is what has happened so far.
    home.pop("depart_at")
    assert file(client, alice, day, stops=[home]).status_code in (200, 201)
    # A phone clock a few minutes behind the server is not refused.
    frozen(datetime(2026, 11, 19, 23, 57, tzinfo=UTC))  # 07:57
    resp = file(client, alice, day, stops=[{**home, "depart_at": local(day, "07:30")},
                                           {**office, "depart_at": None,
                                            "arrive_at": local(day, "08:00")}])
    assert resp.status_code in (200, 201), resp.text
    frozen(datetime(2026, 11, 19, 23, 50, tzinfo=UTC))  # 07:50: arriving at 08:00 is ahead
    resp = file(client, alice, day, stops=[{**home, "depart_at": local(day, "07:30")},
                                           {**office, "depart_at": None,
                                            "arrive_at": local(day, "08:00")}])
    assert resp.status_code == 422
    assert "stops[1].arrive_at" in resp.json()["error"]["fields"]


def test_a_filed_report_carries_the_filers_person_hash(client, world, session):
    # Trajectory verification joins reports to registrations on it (tracing/verify.py).
    from passtrace.people.models import Person
    from passtrace.reports.models import DailyReport

    alice = world.staff["alice"]
    resp = file(client, alice.persona, world.today)
    assert resp.status_code == 201, resp.text
    report = session.get(DailyReport, uuid.UUID(resp.json()["id"]))
    assert report is not None
    assert report.person_hash == session.get(Person, alice.employee.person_id).id_hash
