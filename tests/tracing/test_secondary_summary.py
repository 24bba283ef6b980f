"""Secondary contacts keep their evidence in summary: counts per kind, first and last
exposure, the earliest few items, the contact they came through. Hand-built answers on
both databases (PostgreSQL computes the summary in one SQL statement, SQLite in Python)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import contacts
from passtrace.tracing.models import Contact
from passtrace.tracing.service import evidence_summary
from tests.tracing.world import T0, case, met_in_order, person, reg, site, stay

M = timedelta(minutes=1)
H = timedelta(hours=1)
OPTS = contacts.Options()


def _world(rt: Runtime, session: Session):  # type: ignore[no-untyped-def]
    s1, s2, s3, s4 = site(session), site(session), site(session), site(session)
    hall = site(session, "venue")
    p, b, b2 = person(session, rt), person(session, rt), person(session, rt)
    c = case(session, p)
    # b and b2 meet the case; b first.
    met_in_order(session, p, b, b2, s1, s4)
    # "many" meets b five times at s2 (same site, within W) and once inside b's stay.
    for i in range(5):
        reg(session, s2, b.id_hash, T0 + (2 + i) * H)
        reg(session, s2, "many", T0 + (2 + i) * H + 10 * M)
    stay(session, hall, b.id_hash, T0 + 10 * H, T0 + 12 * H)
    reg(session, hall, "many", T0 + 11 * H)
    # "both" meets b2 (at 3 h) and b (at 8 h): kept through b, whom the case met first.
    reg(session, s3, b2.id_hash, T0 + 3 * H)
    reg(session, s3, "both", T0 + 3 * H + M)
    reg(session, s3, b.id_hash, T0 + 8 * H)
    reg(session, s3, "both", T0 + 8 * H + M)
    return c, b, b2


def test_a_secondary_contact_keeps_counts_first_last_and_the_earliest_items(
        rt: Runtime, session: Session) -> None:
    c, b, b2 = _world(rt, session)
    found = {x.person_hash: x for x in contacts.run(session=session, case=c, options=OPTS,
                                                     depth=2)}
    assert set(found) == {b.id_hash, b2.id_hash, "many", "both"}
    many = found["many"]
    assert many.kind == "secondary" and many.depth == 2
    assert many.via_contact_id == found[b.id_hash].id
    assert many.evidence_counts == {"instant_in_stay": 1, "same_site_window": 5}
    assert evidence_summary(many) == {"instant_in_stay": 1, "same_site_window": 5}
    assert many.first_exposure == T0 + 2 * H and many.last_exposure == T0 + 11 * H
    # The three earliest items, in time order, each naming its site and times.
    assert len(many.evidence) == contacts.EXAMPLES
    assert [e["kind"] for e in many.evidence] == ["same_site_window"] * 3
    assert [e["from"] for e in many.evidence] == [
        (T0 + k * H).isoformat() for k in (2, 3, 4)]
    assert [e["to"] for e in many.evidence] == [
        (T0 + k * H + 10 * M).isoformat() for k in (2, 3, 4)]
    # Met both b2 and b: kept through b (the case met b first), with b's items only.
    both = found["both"]
    assert both.via_contact_id == found[b.id_hash].id
    assert both.evidence_counts == {"same_site_window": 1}
    assert both.first_exposure == T0 + 8 * H
    # Close contacts keep every item and no counts.
    assert found[b.id_hash].evidence_counts is None
    assert [e["kind"] for e in found[b.id_hash].evidence] == ["same_site_window"]


def test_a_second_depth_two_run_writes_no_contact_row(rt: Runtime, session: Session) -> None:
    c, _b, _b2 = _world(rt, session)
    first = {x.person_hash: (x.id, x.evidence, x.evidence_counts)
             for x in contacts.run(session=session, case=c, options=OPTS, depth=2)}
    session.commit()
    session.expire_all()
    writes: list[str] = []
    conn = session.connection()

    def listener(*a: object) -> None:
        sql = str(a[2])
        if "case_contacts" in sql and not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            writes.append(sql)

    event.listen(conn, "before_cursor_execute", listener)
    contacts.search_and_store(session=session, case=c, options=OPTS, depth=2)
    event.remove(conn, "before_cursor_execute", listener)
    assert writes == []
    again = {x.person_hash: (x.id, x.evidence, x.evidence_counts)
             for x in contacts.run(session=session, case=c, options=OPTS, depth=2)}
    assert again == first
    assert session.scalar(select(func.count()).select_from(Contact)
                          .where(Contact.case_id == c.id)) == 4


def test_contacts_at_every_depth_name_their_person_record_and_bare_ids_none(
        rt: Runtime, session: Session) -> None:
    # PostgreSQL looks a new contact's person record up inside the upsert itself.
    c, b, b2 = _world(rt, session)
    found = {x.person_hash: x for x in contacts.run(session=session, case=c, options=OPTS,
                                                     depth=2)}
    assert found[b.id_hash].person_id == b.id and found[b2.id_hash].person_id == b2.id
    assert found["many"].person_id is None and found["both"].person_id is None
    # The search's own answer (search_and_store, which the tasks and the next level use)
    # carries the same ids as the stored rows.
    again = {x.person_hash: x.person_id
             for x in contacts.search_and_store(session=session, case=c, options=OPTS,
                                                depth=2)}
    assert again == {h: x.person_id for h, x in found.items()}


def test_examples_that_tie_on_time_and_kind_come_in_the_order_of_their_text() -> None:
    at = T0 + H
    items = [(at, at, "same_site_window", {"kind": "same_site_window", "site": s})
             for s in ("c", "a", "d", "b")]
    first = contacts._earliest(items)
    assert [e["site"] for e in first] == ["a", "b", "c"]
    assert contacts._earliest(list(reversed(items))) == first
    # Without ties, time alone orders them.
    apart = [(at + k * M, at + k * M, "stay_overlap", {"kind": "stay_overlap", "site": s})
             for k, s in ((3, "a"), (1, "z"), (2, "m"), (0, "q"))]
    assert [e["site"] for e in contacts._earliest(apart)] == ["q", "z", "m"]
