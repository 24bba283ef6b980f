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
from tests.supplies.helpers import depot, item, on_hand, stock


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
