"""Household, same train or flight, colleagues: hand-built answers on both databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import contacts, ties
from tests.tracing.world import T0, case, enterprise, household, person, report

DAY = date(2026, 11, 10)  # a Tuesday


@pytest.mark.parametrize(("mode", "raw", "seat"), [
    ("flight", "12A", ties.Seat(None, 12)),
    ("flight", "３Ｆ", ties.Seat(None, 3)),
    ("train", "05车12A", ties.Seat(5, 12)),
    ("train", "5-012f", ties.Seat(5, 12)),
    ("train", "12A", None),          # a train seat must name its carriage
    ("flight", "A12", None),
    ("flight", "", None),
])
def test_seat_rows(mode: str, raw: str, seat: ties.Seat | None) -> None:
    assert ties.parse_seat(mode, raw) == seat


def test_household_members_are_close_contacts_traced_in_the_compounds_area(
        rt: Runtime, session: Session) -> None:
    p, q, r = person(session, rt), person(session, rt), person(session, rt)
    household(session, [p, q], code="520102000001")
    household(session, [r])
    c = case(session, p)
    found = {x.person_hash: x for x in contacts.run(session=session, case=c,
                                                     options=contacts.Options())}
    assert set(found) == {q.id_hash}
    assert found[q.id_hash].evidence[0]["kind"] == "household"
    assert found[q.id_hash].area_code == "520102000001"
    assert found[q.id_hash].last_exposure == c.window_end


def test_same_train_needs_the_same_carriage_and_three_rows(
        rt: Runtime, session: Session) -> None:
    _, dep = enterprise(session)
    p = person(session, rt)
    near, far, other_car, other_day, flight = (person(session, rt) for _ in range(5))
    report(session, dep, p, DAY, [{"mode": "train", "ref": "G1234", "seat": "05车12A"}])
    report(session, dep, near, DAY, [{"mode": "train", "ref": "g1234", "seat": "05-15F",
                                      "area": "520103"}])
    report(session, dep, far, DAY, [{"mode": "train", "ref": "G1234", "seat": "05车16A"}])
    report(session, dep, other_car, DAY, [{"mode": "train", "ref": "G1234", "seat": "06车12A"}])
    report(session, dep, other_day, DAY + timedelta(days=1),
           [{"mode": "train", "ref": "G1234", "seat": "05车12B"}])
    report(session, dep, flight, DAY, [{"mode": "flight", "ref": "G1234", "seat": "12A"}])
    c = case(session, p)
    found = {x.person_hash: x for x in contacts.run(session=session, case=c,
                                                     options=contacts.Options())}
    assert set(found) == {near.id_hash}
    ev = found[near.id_hash].evidence[0]
    assert (ev["kind"], ev["ref"], ev["case_seat"], ev["contact_seat"]) == (
        "same_train", "G1234", "05车12A", "05-15F")
    assert found[near.id_hash].area_code == "520103"


def test_same_flight_within_three_rows(rt: Runtime, session: Session) -> None:
    _, dep = enterprise(session)
    p, near, far = person(session, rt), person(session, rt), person(session, rt)
    report(session, dep, p, DAY, [{"mode": "flight", "ref": "CA1501", "seat": "20C"}])
    report(session, dep, near, DAY, [{"mode": "flight", "ref": "CA1501", "seat": "17A"}])
    report(session, dep, far, DAY, [{"mode": "flight", "ref": "CA1501", "seat": "24A"}])
    c = case(session, p)
    found = {x.person_hash for x in contacts.run(session=session, case=c,
                                                  options=contacts.Options())}
    assert found == {near.id_hash}


def test_colleagues_only_when_asked_and_only_on_workdays(
        rt: Runtime, session: Session) -> None:
    _, dep = enterprise(session)
    _, other_dep = enterprise(session)
    p, mate, home, weekend, elsewhere = (person(session, rt) for _ in range(5))
    saturday = date(2026, 11, 14)
    report(session, dep, p, DAY)
    report(session, dep, p, saturday)
    report(session, dep, mate, DAY)
    report(session, dep, home, DAY, stayed_home=True)
    report(session, dep, weekend, saturday)
    report(session, other_dep, elsewhere, DAY)
    c = case(session, p, start=T0 - timedelta(days=1), end=T0 + timedelta(days=5))
    assert contacts.run(session=session, case=c, options=contacts.Options()) == []
    found = contacts.run(session=session, case=c, options=contacts.Options(colleagues=True))
    assert [(x.person_hash, x.kind) for x in found] == [(mate.id_hash, "general")]
    assert found[0].evidence[0] == {"kind": "colleague", "department": str(dep.id),
                                    "date": "2026-11-10"}
