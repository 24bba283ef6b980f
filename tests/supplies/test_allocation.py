"""Committing an allocation decides the open requests and sends the transfers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from passtrace.core.clock import local_today
from passtrace.core.errors import InvalidState
from passtrace.notices.service import InAppNotifier
from passtrace.supplies import allocation, requests
from passtrace.supplies.models import SupplyTransfer
from tests.supplies.helpers import depot, item, ledger_sum, on_hand, stock


def test_committing_a_shortage_allocation_sends_each_share(session, make_persona):
    officer = make_persona("supplies_officer", "area", "520102").principal
    warehouse, i = depot(session), item(session)
    stock(session, warehouse, i, "A", date(2027, 1, 1), 90)
    checkpoints = [depot(session, "checkpoint") for _ in range(3)]
    asked = [(60, "high"), (30, "high"), (40, "normal")]
    filed = [requests.file_request(session=session, actor=officer, depot_id=d.id,
                                   item_id=i.id, quantity=q, priority=p,
                                   needed_by=local_today() + timedelta(days=1),
                                   justification="执勤") for d, (q, p) in zip(checkpoints, asked,
                                                                             strict=True)]
    available, plan = allocation.preview(session=session, actor=officer,
                                         warehouse_id=warehouse.id, item_id=i.id)
    assert available == 90 and [s.quantity for _, s in plan] == [60, 30, 0]
    assert on_hand(session, warehouse, i) == 90  # a preview moves nothing
    allocation.commit(session=session, actor=officer, warehouse_id=warehouse.id,
                      item_id=i.id, notifier=InAppNotifier(session))
    assert [r.state for r in filed] == ["approved", "approved", "open"]
    sent = session.scalars(select(SupplyTransfer).where(
        SupplyTransfer.from_depot_id == warehouse.id)).all()
    assert sorted(t.quantity for t in sent) == [30, 60] and on_hand(session, warehouse, i) == 0
    with pytest.raises(InvalidState):
        # Nothing left: the normal request stays open, and a commit now has nothing to send.
        allocation.commit(session=session, actor=officer, warehouse_id=warehouse.id,
                          item_id=i.id, notifier=InAppNotifier(session))


def test_a_commit_of_many_requests_sends_each_the_share_the_rule_gives(
        session, make_persona):
    """The set-based commit (one write per table, not per request) against the pure rule:
    60 requests at three priorities from 6 depots, stock in three lots of 700 units."""
    officer = make_persona("supplies_officer", "area", "520102").principal
    warehouse, i = depot(session), item(session)
    for lot, expires in (("LATE", date(2028, 1, 1)), ("EARLY", date(2027, 1, 1)),
                         ("MID", date(2027, 6, 1))):
        stock(session, warehouse, i, lot, expires, 700)
    checkpoints = [depot(session, "checkpoint") for _ in range(6)]
    priorities = ("critical", "high", "normal")
    filed = [requests.file_request(session=session, actor=officer,
                                   depot_id=checkpoints[k % 6].id, item_id=i.id,
                                   quantity=10 + (k * 37) % 90, priority=priorities[k % 3],
                                   needed_by=local_today() + timedelta(days=1),
                                   justification="执勤") for k in range(60)]
    expected = {s.request_id: s.quantity for s in allocation.allocate(
        2100, [allocation.Need(r.id, r.priority, r.quantity) for r in filed])}
    assert 0 < sum(1 for q in expected.values() if q > 0) < 60  # a real shortage

    available, plan = allocation.commit(session=session, actor=officer,
                                        warehouse_id=warehouse.id, item_id=i.id,
                                        notifier=InAppNotifier(session))
    assert available == 2100 and {r.id: s.quantity for r, s in plan} == expected
    for r in filed:
        want = expected[r.id]
        assert r.state == ("approved" if want == r.quantity else "open" if want == 0
                           else "partly_approved")
        assert (r.approved_quantity or 0) == want
    sent = session.scalars(select(SupplyTransfer).where(
        SupplyTransfer.from_depot_id == warehouse.id)).all()
    assert sum(t.quantity for t in sent) == 2100 and on_hand(session, warehouse, i) == 0
    by_depot: dict[object, int] = {}
    for t in sent:
        by_depot[t.to_depot_id] = by_depot.get(t.to_depot_id, 0) + t.quantity
    for d in checkpoints:
        assert by_depot.get(d.id, 0) == sum(expected[r.id] for r in filed
                                            if r.depot_id == d.id)
    # The warehouse's ledger agrees with its (now empty) balances.
    assert ledger_sum(session, warehouse, i) == 0
