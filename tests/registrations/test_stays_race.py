"""Two lanes register the same person's "out" at once: the stay ends once, at the earlier.

Committed data, two real transactions (tests/concurrency.py), SQLite and PostgreSQL.
Without the conditional UPDATE in stays.open_or_close (a read of the open stay, then a
write), the later "out" overwrites the earlier one whenever it commits last.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from passtrace.core.ids import uuid7
from passtrace.registrations import stays
from passtrace.registrations.models import Registration, Stay
from passtrace.sites.models import Site
from tests.concurrency import is_postgres, race, tag

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _reg(site_id: uuid.UUID, person: str, when: datetime, direction: str) -> Registration:
    return Registration(id=uuid7(), site_id=site_id, lane="1", device_key="dev",
                        occurred_at=when, received_at=when, direction=direction, method="qr",
                        person_hash=person, person_masked="张*", id_last4="1234",
                        decision="allow", reasons=[])


def _one_round(rt, site_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    person = f"race-{tag()}"
    early_at, late_at = T0 + timedelta(hours=2), T0 + timedelta(hours=2, minutes=1)
    with rt.sessions() as session:
        came = _reg(site_id, person, T0, "in")
        session.add(came)
        stays.open_or_close(session, came, site_kind="venue")
        early, late = _reg(site_id, person, early_at, "out"), _reg(site_id, person, late_at,
                                                                   "out")
        session.add_all([early, late])
        session.commit()
        ids = {"early": early.id, "late": late.id}

    def close(which: str):  # type: ignore[no-untyped-def]
        def call(session):  # type: ignore[no-untyped-def]
            stays.open_or_close(session, session.get(Registration, ids[which]),
                                site_kind="venue")
        return call

    def look(session):  # type: ignore[no-untyped-def]
        # What a request reads before it writes: both see the stay still open.
        assert session.scalar(select(Stay.closed_by).where(Stay.person_hash == person)) == "cap"

    # The later "out" first in line, so a lost update would leave its time.
    outcomes = race(rt, close("late"), close("early"), before=look)
    with rt.sessions() as session:
        stay = session.scalar(select(Stay).where(Stay.person_hash == person))
        assert stay is not None
        if is_postgres(rt):
            assert outcomes == ["ok", "ok"], outcomes
        assert "ok" in outcomes and set(outcomes) <= {"ok", "busy"}, outcomes
        committed = [w for w, o in zip(("late", "early"), outcomes, strict=True) if o == "ok"]
        winner = "early" if "early" in committed else "late"
        expected_at = early_at if winner == "early" else late_at
        assert (stay.ended_at, stay.closed_by, stay.out_registration_id) == (
            expected_at, "out", ids[winner]), outcomes


def test_two_outs_at_once_end_the_stay_once_at_the_earlier(committed_rt):
    rt = committed_rt
    with rt.sessions() as session:
        site = Site(code=f"SR-{tag()}", name="停留竞争", kind="venue", area_code="520102",
                    lanes=["1", "2"])
        session.add(site)
        session.commit()
        site_id = site.id
    # Several rounds: a lost update shows only when the later "out" commits last.
    for _ in range(6):
        _one_round(rt, site_id)


def test_two_devices_uploading_an_in_and_its_out_at_once_make_the_closed_stay(
        committed_rt, committed_client):
    """Lane 1's batch holds the "in", lane 2's the "out": each alone would not see the
    other's row; the chain lock makes the second recompute after the first commits."""
    from passtrace.demo import demo_id_number
    from passtrace.registrations import ingest
    from passtrace.registrations.schemas import BatchIn
    from tests.concurrency import committed_persona

    rt = committed_rt
    code = f"SB-{tag()}"
    with rt.sessions() as session:
        session.add(Site(code=code, name="停留批量", kind="venue", area_code="520102",
                         lanes=["1", "2"]))
        session.commit()
    staff = committed_persona(rt, committed_client, "checkpoint_staff", "site", code)
    id_number = demo_id_number("520102", "19850101", tag()[:3].translate(
        str.maketrans("abcdef", "123456")))
    now = datetime.now(UTC).replace(microsecond=0)
    came_at, left_at = now - timedelta(hours=3), now - timedelta(hours=1)

    def upload(direction: str, at: datetime, lane: str):  # type: ignore[no-untyped-def]
        body = BatchIn(site=code, device_key=f"phone-{lane}", sent_at=now, registrations=[{
            "id": str(uuid7()), "lane": lane, "occurred_at": at.isoformat(),
            "direction": direction, "method": "id_typed", "id_number": id_number,
            # The server re-judges uploads: an unknown person stays allowed only as the
            # guard's offline override of exactly that reason.
            "decision": "allow", "reasons": ["unknown_person"],
            "override_reason": "人工核验身份证无误"}])

        def call(session):  # type: ignore[no-untyped-def]
            out = ingest.ingest(session=session, rt=rt, actor=staff.principal, batch=body)
            assert out["stored"] == 1, out
        return call, uuid.UUID(body.registrations[0]["id"])  # type: ignore[arg-type]

    (came, came_id), (left, left_id) = upload("in", came_at, "1"), upload("out", left_at, "2")
    outcomes = race(rt, came, left)
    if is_postgres(rt):
        assert outcomes == ["ok", "ok"], outcomes
    assert set(outcomes) <= {"ok", "busy"} and "ok" in outcomes, outcomes
    with rt.sessions() as session:
        got = session.scalars(select(Stay).where(Stay.id == came_id)).all()
        if outcomes == ["ok", "ok"]:
            assert [(s.ended_at, s.closed_by, s.out_registration_id) for s in got] == [
                (left_at, "out", left_id)]
