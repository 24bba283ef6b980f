"""Any sequence of stock movements keeps every balance equal to the sum of its ledger
and never below zero, and no unit appears or vanishes unaccounted (both databases).

A refused movement (not enough stock, a transfer already received) rolls back as its
request would, inside a savepoint.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.core.errors import DomainError
from passtrace.supplies import service
from passtrace.supplies.models import LedgerEntry, StockBalance, SupplyTransfer
from tests.supplies.helpers import depot, item

LOTS = (("L1", date(2027, 1, 1)), ("L2", date(2027, 6, 1)), ("L3", date(2028, 1, 1)))
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

qty = st.integers(1, 30)
depot_ix = st.integers(0, 1)
movement = st.one_of(
    st.tuples(st.just("receive"), depot_ix, st.integers(0, 2), qty),
    st.tuples(st.just("issue"), depot_ix, st.one_of(st.none(), st.integers(0, 2)), qty),
    st.tuples(st.just("transfer"), depot_ix, st.one_of(st.none(), st.integers(0, 2)), qty),
    st.tuples(st.just("arrive"), st.integers(0, 5), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("count"), depot_ix, st.integers(0, 2), st.integers(0, 40)),
    st.tuples(st.just("damage"), depot_ix, st.integers(0, 2), qty),
)


def _apply(session: Session, depots, it, step) -> None:  # type: ignore[no-untyped-def]
    kind, a, b, n = step
    lots = [service.lot_for(session=session, item=it, lot_number=num, expires_on=exp)
            for num, exp in LOTS]
    if kind == "receive":
        service.receive(session=session, actor=None, depot_id=depots[a].id, item_id=it.id,
                        lot_number=LOTS[b][0], expires_on=LOTS[b][1], quantity=n,
                        supplier="捐赠")
    elif kind == "issue":
        service.issue(session=session, actor=None, depot_id=depots[a].id, item_id=it.id,
                      quantity=n, consumer="卡口", lot_id=None if b is None else lots[b].id)
    elif kind == "transfer":
        service.transfer(session=session, actor=None, from_depot_id=depots[a].id,
                         to_depot_id=depots[1 - a].id, item_id=it.id, quantity=n,
                         lot_id=None if b is None else lots[b].id)
    elif kind == "arrive":
        pending = session.scalars(select(SupplyTransfer).where(
            SupplyTransfer.item_id == it.id).order_by(SupplyTransfer.id)).all()
        if pending:
            t = pending[a % len(pending)]
            # Everything, or a few short (b units missing, at most all of them).
            service.receive_transfer(session=session, actor=None, transfer_id=t.id,
                                     received_quantity=max(t.quantity - b, 0))
    elif kind == "count":
        service.adjust(session=session, actor=None, depot_id=depots[a].id, lot_id=lots[b].id,
                       reason="count", note="盘点", counted=n)
    else:
        service.adjust(session=session, actor=None, depot_id=depots[a].id, lot_id=lots[b].id,
                       reason="damage", note="破损", change=n)


@SETTINGS
@given(steps=st.lists(movement, max_size=14))
def test_balances_always_equal_their_ledger_and_never_go_negative(session: Session,
                                                                  steps) -> None:  # type: ignore[no-untyped-def]
    outer = session.begin_nested()
    try:
        depots, it = [depot(session), depot(session, "hospital")], item(session)
        for step in steps:
            nested = session.begin_nested()
            try:
                _apply(session, depots, it, step)
                nested.commit()
            except DomainError:
                nested.rollback()
        balances = session.execute(select(StockBalance.depot_id, StockBalance.lot_id,
                                          StockBalance.quantity)
                                   .where(StockBalance.item_id == it.id)).all()
        sums = dict(((d, lot), int(q)) for d, lot, q in session.execute(
            select(LedgerEntry.depot_id, LedgerEntry.lot_id, func.sum(LedgerEntry.quantity))
            .where(LedgerEntry.item_id == it.id)
            .group_by(LedgerEntry.depot_id, LedgerEntry.lot_id)).all())
        # A balance with no ledger rows sums to zero: a count of 0 on a lot the depot never
        # held creates its (zero) balance row to lock it, and writes nothing, as it agrees.
        held = {(d, lot): q for d, lot, q in balances}
        assert {k: sums.get(k, 0) for k in held} == held
        assert set(sums) <= set(held)
        assert all(q >= 0 for _, _, q in balances)
        # Conservation: what came in is on hand, in transit, lost on the way, or went out.
        received = session.scalar(select(func.coalesce(func.sum(LedgerEntry.quantity), 0))
                                  .where(LedgerEntry.item_id == it.id,
                                         LedgerEntry.kind == "receipt"))
        outflow = session.scalar(select(func.coalesce(func.sum(LedgerEntry.quantity), 0))
                                 .where(LedgerEntry.item_id == it.id,
                                        LedgerEntry.kind.in_(("issue", "adjustment"))))
        transfers = session.scalars(select(SupplyTransfer)
                                    .where(SupplyTransfer.item_id == it.id)).all()
        in_transit = sum(t.quantity for t in transfers if t.state == "in_transit")
        lost = -sum(t.discrepancy or 0 for t in transfers)
        assert received + outflow == sum(q for _, _, q in balances) + in_transit + lost
    finally:
        outer.rollback()
