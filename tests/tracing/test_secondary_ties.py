"""Secondary contacts met both at a place and at home: each kept through the first contact
of the level that met them, with that contact's items only, on both databases
(PostgreSQL stores the place-only ones in its level statement and the rest from Python)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import contacts
from tests.tracing.world import T0, case, household, met_in_order, person, reg, site

M = timedelta(minutes=1)
H = timedelta(hours=1)


def test_a_household_and_a_place_through_different_contacts(
        rt: Runtime, session: Session) -> None:
    s1, s2, s3, s4 = site(session), site(session), site(session), site(session)
    p, b, b2 = person(session, rt), person(session, rt), person(session, rt)
    home, mixed, plain = person(session, rt), person(session, rt), person(session, rt)
    c = case(session, p)
    # The case meets b first, then b2.
    met_in_order(session, p, b, b2, s1, s4)
    # `home` lives with b, meets b at s2 and b2 at s2: through b, home and place items.
    hh = household(session, [b, home], code="520102000007")
    reg(session, s2, b2.id_hash, T0 + 2 * H)
    reg(session, s2, home.id_hash, T0 + 2 * H + M)
    reg(session, s2, b.id_hash, T0 + 4 * H)
    reg(session, s2, home.id_hash, T0 + 4 * H + M)
    # `mixed` lives with b2 but met b at s3: through b, the place only.
    household(session, [b2, mixed])
    reg(session, s3, b.id_hash, T0 + 3 * H)
    reg(session, s3, mixed.id_hash, T0 + 3 * H + M)
    # `plain` met b2 at a place only.
    reg(session, s3, b2.id_hash, T0 + 6 * H)
    reg(session, s3, plain.id_hash, T0 + 6 * H + 2 * M)
    found = {x.person_hash: x for x in contacts.run(session=session, case=c,
                                                     options=contacts.Options(), depth=2)}
    assert set(found) == {b.id_hash, b2.id_hash, home.id_hash, mixed.id_hash, plain.id_hash}
    h, m, q = found[home.id_hash], found[mixed.id_hash], found[plain.id_hash]
    assert (h.via_contact_id, m.via_contact_id, q.via_contact_id) == (
        found[b.id_hash].id, found[b.id_hash].id, found[b2.id_hash].id)
    assert [x.kind for x in (h, m, q)] == ["secondary"] * 3
    assert [x.person_id for x in (h, m, q)] == [home.id, mixed.id, plain.id]
    # home: at home from b's first exposure to the window's end, and once at s2 with b.
    assert h.evidence_counts == {"household": 1, "same_site_window": 1}
    assert h.evidence == [
        {"kind": "household", "household": str(hh.id)},
        {"kind": "same_site_window", "site": str(s2.id), "from": (T0 + 4 * H).isoformat(),
         "to": (T0 + 4 * H + M).isoformat()}]
    assert (h.first_exposure, h.last_exposure) == (T0, c.window_end)
    assert h.area_code == "520102000007"
    assert m.evidence_counts == {"same_site_window": 1}
    assert (m.first_exposure, m.last_exposure) == (T0 + 3 * H, T0 + 3 * H + M)
    assert q.evidence_counts == {"same_site_window": 1}
    assert q.evidence == [{"kind": "same_site_window", "site": str(s3.id),
                           "from": (T0 + 6 * H).isoformat(),
                           "to": (T0 + 6 * H + 2 * M).isoformat()}]
    assert q.quarantine_until == contacts.quarantine_until(T0 + 6 * H + 2 * M, 14)
