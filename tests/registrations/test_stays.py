"""Stays: allowed in/out pairs at gates and venues become intervals, kept at write time.

Hand-built sequences with known answers, on SQLite and PostgreSQL: written one by one
through the write-time upkeep (in any order), through the checkpoint API and batch
upload, and recomputed by rebuild, which must agree with what write time produced.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.ids import uuid7
from passtrace.registrations import stays
from passtrace.registrations.models import Registration, Stay
from passtrace.sites.models import Site

CAP = timedelta(hours=12)
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Guiyang


def _site(session: Session, kind: str = "venue") -> Site:
    site = Site(code=f"ST-{uuid.uuid4().hex[:8]}", name="停留测试", kind=kind,
                area_code="520102", lanes=["1", "2"])
    session.add(site)
    session.flush()
    return site


def _person() -> str:
    return uuid.uuid4().hex


def _reg(site: Site, person: str, when: datetime, direction: str,
         decision: str = "allow") -> Registration:
    return Registration(id=uuid7(), site_id=site.id, lane="1", device_key="dev",
                        occurred_at=when, received_at=when, direction=direction,
                        method="qr", person_hash=person, person_masked="张*",
                        id_last4="1234", decision=decision,
                        reasons=[] if decision == "allow" else ["no_pass"])


def _write(session: Session, site: Site, person: str,
           events: list[tuple[datetime, str]], decision: str = "allow") -> list[Registration]:
    """Store registrations one by one, as the online path does."""
    rows = []
    for when, direction in events:
        r = _reg(site, person, when, direction, decision)
        session.add(r)
        stays.open_or_close(session, r, site_kind=site.kind)
        rows.append(r)
    session.flush()
    return rows


def _stays(session: Session, person: str) -> list[tuple[Any, ...]]:
    session.expire_all()
    return [(s.id, s.site_id, s.started_at, s.ended_at, s.closed_by, s.out_registration_id)
            for s in stays.stays_of(session, person)]


def test_in_then_out_is_one_closed_stay(session):
    site, person = _site(session), _person()
    came, left = _write(session, site, person, [(T0, "in"), (T0 + timedelta(hours=2), "out")])
    assert _stays(session, person) == [(came.id, site.id, T0, T0 + timedelta(hours=2), "out",
                                        left.id)]


def test_an_in_without_an_out_lasts_until_the_cap(session):
    site, person = _site(session, "enterprise_gate"), _person()
    (came,) = _write(session, site, person, [(T0, "in")])
    assert stays.cap_for("enterprise_gate") == CAP
    assert _stays(session, person) == [(came.id, site.id, T0, T0 + CAP, "cap", None)]


def test_an_out_after_the_cap_is_an_instant_and_closes_nothing(session):
    site, person = _site(session), _person()
    came, _ = _write(session, site, person, [(T0, "in"), (T0 + CAP + timedelta(minutes=1), "out")])
    assert _stays(session, person) == [(came.id, site.id, T0, T0 + CAP, "cap", None)]
    # Exactly at the cap is after it too: the stay already ended there.
    other = _person()
    came, _ = _write(session, site, other, [(T0, "in"), (T0 + CAP, "out")])
    assert _stays(session, other) == [(came.id, site.id, T0, T0 + CAP, "cap", None)]


def test_an_out_without_an_in_makes_no_stay(session):
    site, person = _site(session), _person()
    _write(session, site, person, [(T0, "out"), (T0 + timedelta(hours=1), "out")])
    assert _stays(session, person) == []


def test_a_second_out_does_not_move_the_end(session):
    site, person = _site(session), _person()
    came, left, _ = _write(session, site, person, [(T0, "in"), (T0 + timedelta(hours=1), "out"),
                                                   (T0 + timedelta(hours=2), "out")])
    assert _stays(session, person) == [(came.id, site.id, T0, T0 + timedelta(hours=1), "out",
                                        left.id)]


def test_two_ins_in_a_row_end_the_first_at_the_second(session):
    """The guard missed an "out": the first stay ends (assumed) when the second begins."""
    site, person = _site(session), _person()
    second_at = T0 + timedelta(hours=3)
    first, second, left = _write(session, site, person, [
        (T0, "in"), (second_at, "in"), (second_at + timedelta(hours=1), "out")])
    assert _stays(session, person) == [
        (first.id, site.id, T0, second_at, "cap", None),
        (second.id, site.id, second_at, second_at + timedelta(hours=1), "out", left.id)]


def test_a_stay_across_midnight_is_one_interval(session):
    site, person = _site(session, "community_gate"), _person()
    night = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # 23:30 local
    came, left = _write(session, site, person, [(night, "in"), (night + timedelta(hours=1), "out")])
    assert _stays(session, person) == [(came.id, site.id, night, night + timedelta(hours=1),
                                        "out", left.id)]


def test_denied_registrations_make_no_stay_and_a_road_checkpoint_makes_none(session):
    venue, person = _site(session), _person()
    _write(session, venue, person, [(T0, "in"), (T0 + timedelta(hours=1), "out")],
           decision="deny")
    road = _site(session, "road_checkpoint")
    _write(session, road, person, [(T0, "in"), (T0 + timedelta(hours=1), "out"),
                                   (T0 + timedelta(hours=2), "through")])
    assert _stays(session, person) == []
    assert stays.rebuild(session, person_hashes=[person]) == 0
    assert _stays(session, person) == []


def test_a_denied_out_does_not_close_the_stay(session):
    site, person = _site(session), _person()
    (came,) = _write(session, site, person, [(T0, "in")])
    _write(session, site, person, [(T0 + timedelta(hours=1), "out")], decision="deny")
    assert _stays(session, person) == [(came.id, site.id, T0, T0 + CAP, "cap", None)]


def test_an_in_uploaded_after_its_out_is_closed_by_it(session):
    """Offline: lane 2 sent the 17:00 "out" live; lane 1's 09:00 "in" arrives at 18:00."""
    site, person = _site(session), _person()
    left_at = T0 + timedelta(hours=8)
    (left,) = _write(session, site, person, [(left_at, "out")])
    assert _stays(session, person) == []
    (came,) = _write(session, site, person, [(T0, "in")])
    assert _stays(session, person) == [(came.id, site.id, T0, left_at, "out", left.id)]


def test_an_earlier_out_uploaded_late_takes_over_the_close(session):
    site, person = _site(session), _person()
    came, _ = _write(session, site, person, [(T0, "in"), (T0 + timedelta(hours=5), "out")])
    (early,) = _write(session, site, person, [(T0 + timedelta(hours=2), "out")])
    assert _stays(session, person) == [(came.id, site.id, T0, T0 + timedelta(hours=2), "out",
                                        early.id)]


def test_rebuild_is_idempotent_and_equals_write_time_in_any_arrival_order(session):
    """Random sequences (fixed seed) written in shuffled order; rebuild must agree."""
    rng = random.Random(13)
    sites = [_site(session, kind) for kind in ("venue", "community_gate", "road_checkpoint")]
    persons = [_person() for _ in range(6)]
    events = []
    for person in persons:
        at = T0
        for _ in range(14):
            at += timedelta(minutes=rng.choice([5, 40, 130, 400, 800]))
            direction = rng.choice(["in", "in", "out", "through"])
            events.append((rng.choice(sites), person, at, direction,
                           rng.choice(["allow", "allow", "allow", "deny"])))
    rng.shuffle(events)
    for site, person, at, direction, decision in events:
        _write(session, site, person, [(at, direction)], decision=decision)
    written = {p: _stays(session, p) for p in persons}
    assert sum(len(s) for s in written.values()) > 10
    assert {c for s in written.values() for *_, c, _o in s} == {"out", "cap"}

    count = stays.rebuild(session, person_hashes=persons)
    assert count == sum(len(s) for s in written.values())
    assert {p: _stays(session, p) for p in persons} == written
    stays.rebuild(session, person_hashes=persons)
    assert {p: _stays(session, p) for p in persons} == written
    # From a time on: only stays that began up to a cap before it are redone.
    stays.rebuild(session, since=T0 + timedelta(days=2))
    assert {p: _stays(session, p) for p in persons} == written


def test_rebuild_since_leaves_older_stays_alone(session):
    site, person = _site(session), _person()
    old_in, _ = _write(session, site, person, [(T0, "in"), (T0 + timedelta(hours=1), "out")])
    # Imported behind write-time upkeep's back: only rebuild knows of it.
    late = T0 + timedelta(days=3)
    imported = _reg(site, person, late, "in")
    session.add(imported)
    session.flush()
    # Mark the old stay so that a recompute of it would show.
    session.execute(Stay.__table__.update().where(Stay.id == old_in.id).values(closed_by="mark"))
    assert stays.rebuild(session, since=late) >= 1
    got = _stays(session, person)
    assert got[0][4] == "mark"
    assert got[1] == (imported.id, site.id, late, late + CAP, "cap", None)


def test_the_cap_is_a_setting_per_site_kind(session, monkeypatch):
    from passtrace.core.config import Settings

    venue, gate, person = _site(session), _site(session, "community_gate"), _person()
    monkeypatch.setenv("PASSTRACE_STAY_CAP_HOURS", "default=10, venue=4")
    try:
        stays.configure(Settings())
        (at_venue,) = _write(session, venue, person, [(T0, "in")])
        (at_gate,) = _write(session, gate, person, [(T0, "in")])
    finally:
        monkeypatch.delenv("PASSTRACE_STAY_CAP_HOURS")
        stays.configure(Settings())
    assert sorted(_stays(session, person), key=lambda s: s[3]) == [
        (at_venue.id, venue.id, T0, T0 + timedelta(hours=4), "cap", None),
        (at_gate.id, gate.id, T0, T0 + timedelta(hours=10), "cap", None)]
    assert stays.cap_for("venue") == CAP  # back to the default


@pytest.mark.parametrize("value", ["venue=0", "venue=169", "venue=four", "road_checkpoint=2",
                                   "gaet=4"])
def test_a_bad_cap_setting_is_refused_loudly(value, monkeypatch):
    from pydantic import ValidationError

    from passtrace.core.config import Settings

    monkeypatch.setenv("PASSTRACE_STAY_CAP_HOURS", value)
    with pytest.raises((ValidationError, ValueError)):
        stays.configure(Settings())
    assert stays.cap_for("venue") == CAP


def _ordered_ids(n: int) -> list[uuid.UUID]:
    return sorted(uuid7() for _ in range(n))


def _write_ids(session: Session, site: Site, person: str,
               events: list[tuple[uuid.UUID, datetime, str]]) -> None:
    for rid, when, direction in events:
        r = _reg(site, person, when, direction)
        r.id = rid
        session.add(r)
        stays.open_or_close(session, r, site_kind=site.kind)
    session.flush()


@pytest.mark.parametrize("out_first_id", [True, False])
@pytest.mark.parametrize("out_arrives_first", [True, False])
def test_an_in_and_an_out_at_one_instant_make_a_stay_of_no_length(
        session, out_first_id, out_arrives_first):
    """Ties sort "in" before "out", whatever the ids and the arrival order; rebuild agrees."""
    site, person = _site(session), _person()
    low, high = _ordered_ids(2)
    came, left = (high, low) if out_first_id else (low, high)
    events = [(came, T0, "in"), (left, T0, "out")]
    _write_ids(session, site, person, events[::-1] if out_arrives_first else events)
    want = [(came, site.id, T0, T0, "out", left)]
    assert _stays(session, person) == want
    stays.rebuild(session, person_hashes=[person])
    assert _stays(session, person) == want


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_two_ins_at_one_instant_make_one_running_stay_whatever_the_arrival(session, order):
    """A double scan: the lower id ends at once (at the other "in"), the other runs on."""
    site, person = _site(session), _person()
    first, second, left = _ordered_ids(3)
    out_at = T0 + timedelta(hours=2)
    events = [(first, T0, "in"), (second, T0, "in"), (left, out_at, "out")]
    _write_ids(session, site, person, [events[i] for i in order])
    want = [(first, site.id, T0, T0, "cap", None), (second, site.id, T0, out_at, "out", left)]
    assert sorted(_stays(session, person), key=lambda s: s[3]) == want
    stays.rebuild(session, person_hashes=[person])
    assert sorted(_stays(session, person), key=lambda s: s[3]) == want


def test_two_outs_at_one_instant_close_with_the_lower_id_in_any_order(session):
    site, person = _site(session), _person()
    came, low, high = _ordered_ids(3)
    left_at = T0 + timedelta(hours=1)
    _write_ids(session, site, person, [(came, T0, "in"), (high, left_at, "out"),
                                       (low, left_at, "out")])
    want = [(came, site.id, T0, left_at, "out", low)]
    assert _stays(session, person) == want
    stays.rebuild(session, person_hashes=[person])
    assert _stays(session, person) == want


# --- through the checkpoint API: online, override, batch upload ----------------------------

VENUE = "VN-T-01"


@pytest.fixture
def venue(client, make_persona):
    from tests.passes.helpers import apply, approve
    from tests.registrations.conftest import Checkpoint, site_body

    official = make_persona("official", "area", "520102", name="南明区防控办")
    resp = client.post("/api/v1/sites", json=site_body(code=VENUE, kind="venue"),
                       headers=official.headers)
    assert resp.status_code == 200, resp.text
    staff = make_persona("checkpoint_staff", "site", VENUE, name="值守员")
    resident = make_persona("public", name="张三")
    p = apply(client, resident.headers)
    approved = approve(client, p["id"], official.headers, resident.headers)
    return Checkpoint(official=official, staff=staff, resident=resident, pass_=approved)


def _hash(session, venue) -> str:
    from passtrace.people.models import Person

    return session.get(Person, venue.resident.principal.person_id).id_hash


def test_checking_in_and_out_online_makes_a_stay(client, venue, session):
    from tests.registrations.conftest import reg_body

    now = datetime.now(UTC).replace(microsecond=0)
    ids = []
    for direction, at in (("in", now - timedelta(hours=1)), ("out", now)):
        body = reg_body(site=VENUE, direction=direction, token=venue.pass_["token"],
                        occurred_at=at.isoformat())
        resp = client.post("/api/v1/registrations", json=body, headers=venue.staff.headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["decision"] == "allow", resp.text
        ids.append(uuid.UUID(body["id"]))
    got = _stays(session, _hash(session, venue))
    assert [(g[0], g[2], g[3], g[4], g[5]) for g in got] == [
        (ids[0], now - timedelta(hours=1), now, "out", ids[1])]
    # A retried "out" (same id) changes nothing.
    again = client.post("/api/v1/registrations", json=body, headers=venue.staff.headers)
    assert again.status_code == 200
    assert _stays(session, _hash(session, venue)) == got


def test_a_batch_with_an_in_and_its_out_makes_the_stay_and_a_resend_changes_nothing(
        client, venue, session):
    from tests.registrations.test_batch_upload import batch, row

    # Inside the pass's validity: the server judges each uploaded row at its own time.
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [row(pass_id=venue.pass_["id"], occurred_at=(now - timedelta(minutes=50)).isoformat()),
            row(pass_id=venue.pass_["id"], direction="out",
                occurred_at=(now - timedelta(minutes=40)).isoformat()),
            row(pass_id=venue.pass_["id"], occurred_at=(now - timedelta(minutes=30)).isoformat())]
    resp = client.post("/api/v1/registrations/batch", json=batch(rows, site=VENUE),
                       headers=venue.staff.headers)
    assert resp.status_code == 200 and resp.json()["stored"] == 3, resp.text
    person = _hash(session, venue)
    got = _stays(session, person)
    assert [(str(g[0]), g[3], g[4]) for g in got] == [
        (rows[0]["id"], now - timedelta(minutes=40), "out"),
        (rows[2]["id"], now - timedelta(minutes=30) + CAP, "cap")]
    resp = client.post("/api/v1/registrations/batch", json=batch(rows, site=VENUE),
                       headers=venue.staff.headers)
    assert resp.json()["duplicates"] == 3
    assert _stays(session, person) == got
    # An "out" uploaded later by another device closes the open one.
    out = row(pass_id=venue.pass_["id"], direction="out", lane="2",
              occurred_at=(now - timedelta(minutes=10)).isoformat())
    client.post("/api/v1/registrations/batch", json=batch([out], site=VENUE, device_key="p-2"),
                headers=venue.staff.headers)
    last = _stays(session, person)[-1]
    assert (last[3], last[4], str(last[5])) == (now - timedelta(minutes=10), "out", out["id"])
    assert stays.rebuild(session, person_hashes=[person]) == 2
    assert _stays(session, person)[:1] == got[:1]


def test_an_override_makes_the_denied_in_a_stay(client, venue, session):
    from tests.registrations.conftest import reg_body

    body = reg_body(site=VENUE, direction="in", token=venue.pass_["token"], temperature=38.0)
    resp = client.post("/api/v1/registrations", json=body, headers=venue.staff.headers)
    assert resp.status_code == 200 and resp.json()["decision"] == "deny", resp.text
    person = _hash(session, venue)
    assert _stays(session, person) == []
    resp = client.post(f"/api/v1/registrations/{body['id']}/override",
                       json={"reason": "复测36.8，放行"}, headers=venue.staff.headers)
    assert resp.status_code == 200, resp.text
    got = _stays(session, person)
    assert [(str(g[0]), g[4]) for g in got] == [(body["id"], "cap")]


def test_retention_deletes_stays_with_the_registrations(rt, session):
    from passtrace.core.clock import utcnow
    from passtrace.retention import service

    site, person = _site(session), _person()
    old = utcnow() - timedelta(days=40)
    recent = utcnow() - timedelta(days=2)
    old_in, _ = _write(session, site, person, [(old, "in"), (old + timedelta(hours=1), "out")])
    new_in, _ = _write(session, site, person, [(recent, "in"),
                                               (recent + timedelta(hours=1), "out")])
    session.commit()
    old_id, new_id = old_in.id, new_in.id
    stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
    assert stats.deleted["stays"] >= 1
    assert [s[0] for s in _stays(session, person)] == [new_id]
    assert session.scalar(select(Registration.id).where(Registration.id == old_id)) is None


def test_a_batch_recomputes_each_persons_running_stay(session):
    """One person's early row must not hide another's stay begun before it."""
    site = _site(session)
    early, late = _person(), _person()
    (late_in,) = _write(session, site, late, [(T0, "in")])
    # One batch: `early`'s in at T0+1h (the batch's earliest), `late`'s out at T0+3h.
    rows = [_reg(site, early, T0 + timedelta(hours=1), "in"),
            _reg(site, late, T0 + timedelta(hours=3), "out")]
    session.add_all(rows)
    session.flush()
    stays.after_batch(session, site=site, rows=[
        {c: getattr(r, c) for c in ("id", "decision", "direction", "person_hash",
                                    "occurred_at")} for r in rows])
    assert _stays(session, late) == [(late_in.id, site.id, T0, T0 + timedelta(hours=3), "out",
                                      rows[1].id)]
    assert _stays(session, early) == [(rows[0].id, site.id, T0 + timedelta(hours=1),
                                       T0 + timedelta(hours=1) + CAP, "cap", None)]
