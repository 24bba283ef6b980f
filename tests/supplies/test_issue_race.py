"""Two depot clerks issuing the last units of a lot at the same moment (both databases).

Committed data in a database of its own per backend (tests/concurrency.py). Without the
balance row's lock, PostgreSQL lets both issues read 5 and write 0: ten units handed
out of five, and the balance row no longer the sum of its ledger.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from passtrace.notices.service import InAppNotifier
from passtrace.supplies import allocation, service
from passtrace.supplies.models import LedgerEntry, StockBalance, SupplyRequest
from tests.concurrency import is_postgres, race
from tests.supplies.helpers import depot, item, stock


def test_two_issues_of_the_last_units_at_once_hand_them_out_once(committed_rt):
    rt = committed_rt
    with rt.sessions() as s:
        d, i = depot(s), item(s)
        stock(s, d, i, "LAST", date(2027, 1, 1), 5)
        s.commit()
        depot_id, item_id = d.id, i.id

    def issue_five(session):  # type: ignore[no-untyped-def]
        return service.issue(session=session, actor=None, depot_id=depot_id, item_id=item_id,
                             quantity=5, consumer="卡口")

    # Both clerks saw 5 on their screens before either pressed "issue".
    def look(session):  # type: ignore[no-untyped-def]
        return session.scalar(select(StockBalance.quantity)
                              .where(StockBalance.depot_id == depot_id))

    outcomes = race(rt, issue_five, issue_five, before=look)
    loser = {"InvalidState"} if is_postgres(rt) else {"InvalidState", "busy"}
    assert outcomes.count("ok") == 1 and (set(outcomes) - {"ok"}) <= loser, outcomes
    with rt.sessions() as s:
        balance = s.scalar(select(StockBalance.quantity)
                           .where(StockBalance.depot_id == depot_id))
        issued = s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.depot_id == depot_id, LedgerEntry.kind == "issue"))
        assert balance == 0 and issued == 1


def test_an_allocation_and_an_issue_of_the_same_warehouse_stock_at_once_hand_it_out_once(
        committed_rt):
    """The commit's set-based transfers lower the same balance rows an issue does: both
    lock them through ledger.locked_stock, so the second sees what the first left."""
    rt = committed_rt
    with rt.sessions() as s:
        warehouse, i, checkpoint = depot(s), item(s), depot(s, "checkpoint")
        stock(s, warehouse, i, "ONLY", date(2027, 1, 1), 30)
        s.add(SupplyRequest(depot_id=checkpoint.id, item_id=i.id, quantity=30,
                            priority="critical", needed_by=date(2027, 1, 1),
                            justification="执勤", state="open", decision_reason=""))
        s.commit()
        warehouse_id, item_id = warehouse.id, i.id

    def allocate(session):  # type: ignore[no-untyped-def]
        return allocation.commit(session=session, actor=None, warehouse_id=warehouse_id,
                                 item_id=item_id, notifier=InAppNotifier(session))

    def issue_all(session):  # type: ignore[no-untyped-def]
        return service.issue(session=session, actor=None, depot_id=warehouse_id,
                             item_id=item_id, quantity=30, consumer="医院")

    def look(session):  # type: ignore[no-untyped-def]
        return session.scalar(select(StockBalance.quantity)
                              .where(StockBalance.depot_id == warehouse_id))

    outcomes = race(rt, allocate, issue_all, before=look)
    loser = {"InvalidState"} if is_postgres(rt) else {"InvalidState", "busy"}
    assert outcomes.count("ok") == 1 and (set(outcomes) - {"ok"}) <= loser, outcomes
    with rt.sessions() as s:
        balance = s.scalar(select(StockBalance.quantity)
                           .where(StockBalance.depot_id == warehouse_id))
        out = s.scalar(select(func.coalesce(func.sum(LedgerEntry.quantity), 0)).where(
            LedgerEntry.depot_id == warehouse_id, LedgerEntry.kind != "receipt"))
        assert balance == 0 and out == -30
