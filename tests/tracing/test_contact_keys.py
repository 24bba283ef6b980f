"""A contact's evidence is kept in the order of each item's json.dumps(sort_keys=True)
text; same-place hits put that text together from their rows (`colocation.Hit.key`)
instead of dumping every item. Both databases: the key is the dump, byte for byte, and
the stored order is the dumps' order."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import colocation, contacts
from tests.tracing.world import T0, case, person, reg, site, stay

M = timedelta(minutes=1)


def _world(rt: Runtime, session: Session):  # type: ignore[no-untyped-def]
    gate, venue = site(session, "community_gate"), site(session)
    p = person(session, rt)
    c = case(session, p)
    # Every kind, fractional minutes, microseconds, and external ids that json.dumps
    # escapes (a quote, a backslash, non-ASCII).
    reg(session, gate, p.id_hash, T0 + timedelta(microseconds=250), external_id='病例"1\\')
    reg(session, gate, "near", T0 + 20 * timedelta(seconds=1), external_id="接触者-1")
    reg(session, gate, "near", T0 + 7 * M + timedelta(seconds=3))
    stay(session, venue, p.id_hash, T0 + timedelta(hours=2),
         T0 + timedelta(hours=4, seconds=10))
    stay(session, venue, "near", T0 + timedelta(hours=3), T0 + timedelta(hours=5))
    reg(session, venue, "near", T0 + timedelta(hours=2, minutes=30))
    stay(session, venue, "near", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2))
    reg(session, venue, p.id_hash, T0 + timedelta(days=1, hours=1))
    return c, p


def test_every_hits_key_is_its_items_json_dump(rt: Runtime, session: Session) -> None:
    c, p = _world(rt, session)
    hits = colocation.find(session, person_hash=p.id_hash, start=c.window_start,
                           end=c.window_end, window_minutes=30, overlap_minutes={})
    kinds = sorted({(h.kind, h.evidence.get("stay_of")) for h in hits},
                   key=lambda k: (k[0], k[1] or ""))
    assert kinds == [("instant_in_stay", "case"), ("instant_in_stay", "contact"),
                     ("same_site_window", None), ("stay_overlap", None)]
    for h in hits:
        assert h.key == json.dumps({"kind": h.kind, **h.evidence}, sort_keys=True)


def test_the_stored_evidence_is_in_the_order_of_its_dumps(rt: Runtime, session: Session) -> None:
    c, _p = _world(rt, session)
    found = {x.person_hash: x for x in contacts.run(session=session, case=c,
                                                     options=contacts.Options())}
    items = found["near"].evidence
    # Two same-site windows at the gate, a third between the case's stay's "in" and the
    # instant half an hour later, the overlap and an instant each way.
    assert len(items) == 6
    texts = [json.dumps(e, sort_keys=True) for e in items]
    assert texts == sorted(texts)
    gaps = sorted(e["gap_minutes"] for e in items if e["kind"] == "same_site_window")
    assert gaps == [0.33, 7.05, 30.0]
