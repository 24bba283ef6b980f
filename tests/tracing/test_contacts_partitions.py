"""Contacts are found whichever day partition a registration's id puts it in.

On PostgreSQL registrations are partitioned by the day of their id, and the search prunes
each index probe to the partitions whose rows occurred around the probe's time
(colocation._PARTS_SQL). An id is normally made when its registration occurred, but
not always: an id made days later for an older event, a device clock that jumped back
between making the id and the check. Those rows must still be found (tracing promises
to see every registration, registrations/lookback.py), at depth 1 and 2, on both
databases.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.registrations import partitions
from passtrace.registrations.lookback import id_floor
from passtrace.tracing import contacts
from tests.tracing.world import T0, case, person, reg, site, stay

M = timedelta(minutes=1)
D = timedelta(days=1)
OPTS = contacts.Options()


def _id_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 whose time part is `moment` (random bits below)."""
    rand = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=id_floor(moment).int | (0x7 << 76) | (((rand >> 62) & 0xFFF) << 64)
                     | (0b10 << 62) | (rand & ((1 << 62) - 1)))


def _day_partitions(session: Session) -> None:
    """On PostgreSQL: a partition for every day from 20 days before T0 to 20 after, so the
    rows below lie in day partitions (not the default one) and the probes prune."""
    if partitions.is_partitioned(session):
        partitions.create_ahead(session, today=(T0 + 20 * D).date(), days_ahead=0,
                                since=(T0 - 20 * D).date())


def _partition_of(session: Session, person_hash: str) -> str:
    return str(session.scalar(text("SELECT tableoid::regclass::text FROM registrations "
                                   "WHERE person_hash = :h"), {"h": person_hash}))


def test_registrations_whose_ids_say_another_day_are_still_contacts(
        rt: Runtime, session: Session) -> None:
    _day_partitions(session)
    gate, hall = site(session, "road_checkpoint"), site(session, "venue")
    p = person(session, rt)
    c = case(session, p)
    reg(session, gate, p.id_hash, T0, rid=_id_at(T0))
    # An id made nine days after the event it records (server-side, for an old event).
    reg(session, gate, "made-later", T0 + 5 * M, rid=_id_at(T0 + 9 * D))
    # An id three days before its event (the device clock jumped back between the two).
    reg(session, gate, "clock-jumped", T0 + 10 * M, rid=_id_at(T0 - 3 * D))
    reg(session, gate, "on-time", T0 + 15 * M, rid=_id_at(T0 + 15 * M))
    reg(session, gate, "too-late", T0 + 31 * M, rid=_id_at(T0 + 31 * M))
    # A stay of the case's in a hall, and someone's instant inside it whose id is a week
    # off: the stay's probe meets the partitions of its own days and that one too.
    stay(session, hall, p.id_hash, T0 + 2 * 60 * M, T0 + 4 * 60 * M)
    reg(session, hall, "in-the-hall", T0 + 3 * 60 * M, rid=_id_at(T0 - 7 * D))
    if partitions.is_partitioned(session):
        # The rows lie in the partitions of their ids' days, days from their own.
        assert _partition_of(session, "made-later") == partitions.partition_name(
            (T0 + 9 * D).date())
        assert _partition_of(session, "in-the-hall") == partitions.partition_name(
            (T0 - 7 * D).date())
    found = {x.person_hash: x for x in contacts.run(session=session, case=c, options=OPTS)}
    assert set(found) == {"made-later", "clock-jumped", "on-time", "in-the-hall"}
    assert [e["kind"] for e in found["in-the-hall"].evidence] == ["instant_in_stay"]


def test_secondary_contacts_through_rows_with_far_ids(rt: Runtime, session: Session) -> None:
    _day_partitions(session)
    s1, s2 = site(session, "road_checkpoint"), site(session, "road_checkpoint")
    p, b = person(session, rt), person(session, rt)
    c = case(session, p)
    reg(session, s1, p.id_hash, T0, rid=_id_at(T0))
    reg(session, s1, b.id_hash, T0 + 5 * M, rid=_id_at(T0 + 12 * D))
    # b meets two people a day later: one whose id is days early, one days late.
    reg(session, s2, b.id_hash, T0 + D, rid=_id_at(T0 + D))
    reg(session, s2, "second-early", T0 + D + 3 * M, rid=_id_at(T0 - 5 * D))
    reg(session, s2, "second-late", T0 + D + 4 * M, rid=_id_at(T0 + 15 * D))
    found = {x.person_hash: x
             for x in contacts.run(session=session, case=c, options=OPTS, depth=2)}
    assert set(found) == {b.id_hash, "second-early", "second-late"}
    assert found["second-early"].depth == found["second-late"].depth == 2
    assert found["second-late"].via_contact_id == found[b.id_hash].id
