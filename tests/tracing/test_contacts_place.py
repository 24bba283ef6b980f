"""Same place, same time: boundaries with hand-built answers, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.registrations import stays
from passtrace.tracing import colocation, contacts
from passtrace.tracing.models import Contact
from tests.tracing.world import T0, case, person, reg, site, stay

M = timedelta(minutes=1)
OPTS = contacts.Options()


def _found(session: Session, c, **kw):  # type: ignore[no-untyped-def]
    return {x.person_hash: x for x in contacts.run(session=session, case=c, options=OPTS, **kw)}


def test_exactly_w_minutes_apart_is_a_contact_and_w_plus_one_is_not(
        rt: Runtime, session: Session) -> None:
    s = site(session, "road_checkpoint")
    p = person(session, rt)
    c = case(session, p, window_minutes=30)
    reg(session, s, p.id_hash, T0)
    reg(session, s, "at-30", T0 + 30 * M)
    reg(session, s, "at-minus-30", T0 - 30 * M)
    reg(session, s, "at-31", T0 + 31 * M)
    reg(session, s, "denied", T0, decision="deny")
    found = _found(session, c)
    assert set(found) == {"at-30", "at-minus-30"}
    ev = found["at-30"].evidence
    assert [e["kind"] for e in ev] == ["same_site_window"]
    assert ev[0]["gap_minutes"] == 30
    assert found["at-30"].kind == "close" and found["at-30"].depth == 1
    assert found["at-30"].area_code == "520102"


def test_a_contact_across_midnight_is_found_and_quarantined_from_the_local_date(
        rt: Runtime, session: Session) -> None:
    s = site(session)
    p = person(session, rt)
    c = case(session, p)
    midnight_local = T0.replace(hour=16)  # 16:00 UTC = 00:00 local next day
    reg(session, s, p.id_hash, midnight_local - 10 * M)
    reg(session, s, "after-midnight", midnight_local + 10 * M)
    f = _found(session, c)["after-midnight"]
    assert f.last_exposure == midnight_local + 10 * M
    # Local date 2026-11-11 + 14 days.
    assert f.quarantine_until.isoformat() == "2026-11-25"


def test_the_windows_first_minute_counts_and_its_end_does_not(
        rt: Runtime, session: Session) -> None:
    s1, s2, s3 = site(session), site(session), site(session)
    p = person(session, rt)
    c = case(session, p, start=T0, end=T0 + timedelta(days=1))
    reg(session, s1, p.id_hash, T0)                       # first instant of the window
    reg(session, s1, "first", T0 + 5 * M)
    reg(session, s3, p.id_hash, T0 + timedelta(days=1))  # the window's end: outside
    reg(session, s3, "after-end", T0 + timedelta(days=1))
    reg(session, s2, p.id_hash, T0 + timedelta(days=1) - M)  # the last minute: inside
    reg(session, s2, "last-minute", T0 + timedelta(days=1) - M)
    assert set(_found(session, c)) == {"first", "last-minute"}


def test_overlapping_stays_and_an_open_stay(rt: Runtime, session: Session) -> None:
    gate = site(session, "enterprise_gate")
    p = person(session, rt)
    c = case(session, p)
    stay(session, gate, p.id_hash, T0, T0 + timedelta(hours=3))
    stay(session, gate, "overlaps", T0 + timedelta(hours=2), T0 + timedelta(hours=5))
    # Still inside: the stay ends at the cap (12 h), so it overlaps.
    stay(session, gate, "open", T0 - timedelta(hours=6), T0 + timedelta(hours=6), "cap")
    stay(session, gate, "later", T0 + timedelta(hours=4), T0 + timedelta(hours=6))
    found = _found(session, c)
    assert set(found) == {"overlaps", "open"}
    ov = [e for e in found["overlaps"].evidence if e["kind"] == "stay_overlap"]
    assert ov[0]["overlap_minutes"] == 60
    assert found["open"].first_exposure == T0
    assert found["open"].last_exposure == T0 + timedelta(hours=3)


def test_a_minimum_overlap_per_site_kind(rt: Runtime, session: Session) -> None:
    gate = site(session, "enterprise_gate")
    p = person(session, rt)
    c = case(session, p)
    stay(session, gate, p.id_hash, T0, T0 + timedelta(hours=3))
    stay(session, gate, "short", T0 + timedelta(hours=2, minutes=50), T0 + timedelta(hours=5))
    opts = contacts.Options(overlap_minutes={"enterprise_gate": 15}, window_minutes=5)
    found = {x.person_hash for x in contacts.run(session=session, case=c, options=opts)}
    assert "short" not in found


def test_an_instant_inside_a_stay_both_ways(rt: Runtime, session: Session) -> None:
    venue = site(session)
    p = person(session, rt)
    c = case(session, p)
    stay(session, venue, p.id_hash, T0, T0 + timedelta(hours=3))
    reg(session, venue, "passes-through", T0 + timedelta(hours=1, minutes=30))
    stay(session, venue, "stays", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2))
    reg(session, venue, p.id_hash, T0 + timedelta(days=1, hours=1))
    found = _found(session, c)
    assert [e["kind"] for e in found["passes-through"].evidence] == ["instant_in_stay"]
    assert found["passes-through"].evidence[0]["stay_of"] == "case"
    assert [e["kind"] for e in found["stays"].evidence] == ["instant_in_stay"]
    assert found["stays"].evidence[0]["stay_of"] == "contact"


def test_stays_longer_than_48_hours_are_found_when_the_cap_allows_them(
        rt: Runtime, session: Session) -> None:
    # The cap raised to 72 h: a 60-hour stay is possible, and the search's bound on a
    # stay's length follows the configured cap (a fixed 48 h would miss both below).
    stays.configure(rt.settings.model_copy(update={"stay_cap_hours": {"default": 72}}))
    try:
        venue, hall = site(session), site(session)
        p = person(session, rt)
        c = case(session, p, start=T0 + timedelta(hours=50), end=T0 + timedelta(hours=70))
        stay(session, venue, "long-stayer", T0, T0 + timedelta(hours=60))
        reg(session, venue, p.id_hash, T0 + timedelta(hours=55))
        # The case's own stay began 50 h before the window and lasts into it.
        stay(session, hall, p.id_hash, T0, T0 + timedelta(hours=58))
        reg(session, hall, "passer-by", T0 + timedelta(hours=52))
        found = _found(session, c)
    finally:
        stays.configure(rt.settings)
    assert [e["kind"] for e in found["long-stayer"].evidence] == ["instant_in_stay"]
    assert found["long-stayer"].evidence[0]["stay_of"] == "contact"
    assert [e["kind"] for e in found["passer-by"].evidence] == ["instant_in_stay"]
    assert found["passer-by"].evidence[0]["stay_of"] == "case"
    # Back at the configured cap, the bound is back too.
    assert colocation.stay_bound() == timedelta(hours=max(rt.settings.stay_cap_hours.values()))


def test_a_case_with_no_registrations_has_no_contacts(rt: Runtime, session: Session) -> None:
    s = site(session)
    p = person(session, rt)
    c = case(session, p)
    reg(session, s, "someone", T0)
    assert contacts.run(session=session, case=c, options=OPTS) == []


def test_running_again_changes_nothing(rt: Runtime, session: Session) -> None:
    s = site(session)
    gate = site(session, "community_gate")
    p = person(session, rt)
    c = case(session, p)
    reg(session, s, p.id_hash, T0, external_id="EXT-CASE-1")
    reg(session, s, "x", T0 + 3 * M, external_id="EXT-X-1")
    stay(session, gate, p.id_hash, T0, T0 + timedelta(hours=1))
    stay(session, gate, "y", T0, T0 + timedelta(hours=2))
    first = [(x.id, x.person_hash, x.evidence, x.first_exposure, x.last_exposure, x.found_at)
             for x in contacts.run(session=session, case=c, options=OPTS)]
    session.commit()
    session.expire_all()
    writes: list[str] = []
    conn = session.connection()

    def listener(*a: object) -> None:
        sql = str(a[2])
        if "case_contacts" in sql and not sql.lstrip().upper().startswith("SELECT"):
            writes.append(sql)

    event.listen(conn, "before_cursor_execute", listener)
    again = [(x.id, x.person_hash, x.evidence, x.first_exposure, x.last_exposure, x.found_at)
             for x in contacts.run(session=session, case=c, options=OPTS)]
    event.remove(conn, "before_cursor_execute", listener)
    assert writes == []
    assert first == again
    assert session.scalar(select(func.count()).select_from(Contact)
                          .where(Contact.case_id == c.id)) == 2
    ev = next(e for e in first[0][2] + first[1][2] if e["kind"] == "same_site_window")
    assert ev["case_registration"]["external_id"] == "EXT-CASE-1"
    assert ev["contact_registration"]["external_id"] == "EXT-X-1"


def test_secondary_contacts_name_the_contact_they_came_through(
        rt: Runtime, session: Session) -> None:
    s1, s2, s3 = site(session), site(session), site(session)
    p = person(session, rt)
    b = person(session, rt)
    c = case(session, p)
    reg(session, s1, p.id_hash, T0)
    reg(session, s1, b.id_hash, T0 + 5 * M)
    reg(session, s2, b.id_hash, T0 + timedelta(hours=2))
    reg(session, s2, "second", T0 + timedelta(hours=2, minutes=10))
    reg(session, s3, "second", T0 + timedelta(hours=4))
    reg(session, s3, "third", T0 + timedelta(hours=4, minutes=1))
    # Met b before b met the case: not a secondary contact through b.
    reg(session, s2, b.id_hash, T0 - timedelta(hours=3))
    reg(session, s2, "before", T0 - timedelta(hours=3))
    one = _found(session, c)
    assert set(one) == {b.id_hash}
    two = _found(session, c, depth=2)
    assert set(two) == {b.id_hash, "second"}
    assert two["second"].kind == "secondary" and two["second"].depth == 2
    assert two["second"].via_contact_id == two[b.id_hash].id
    assert two[b.id_hash].person_id == b.id
    three = _found(session, c, depth=3)
    assert three["third"].depth == 3 and three["third"].via_contact_id == three["second"].id
