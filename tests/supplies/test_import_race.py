"""Two officers importing the same opening-stock sheet at the same moment (both databases).

Committed data in a database of its own per backend (tests/concurrency.py). The lot is
already at the depot (a receipt), so both imports find its balance row and neither finds
an opening entry when they read: without the unique index on (depot, lot) for kind
"opening", PostgreSQL lets the second add the opening stock again once the first commits
and the depot shows 210 units instead of 110.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from passtrace.audit.models import AuditEntry
from passtrace.supplies import imports
from passtrace.supplies.models import Depot, LedgerEntry, SupplyItem
from tests.concurrency import is_postgres, race, tag
from tests.supplies.helpers import depot, item, on_hand, stock


def test_two_imports_of_one_sheet_at_once_load_the_stock_once(committed_rt):
    rt = committed_rt
    with rt.sessions() as s:
        d, masks = depot(s), item(s)
        stock(s, d, masks, "RACE", date(2027, 6, 30), 10)
        s.commit()
        depot_id = d.id
        sheet = (f"depot code,item,lot,expiry,quantity\n"
                 f"{d.code},{masks.name},RACE,2027-06-30,100\n").encode()

    def load(session):  # type: ignore[no-untyped-def]
        done = imports.import_stock(session=session, actor=None, data=sheet,
                                    filename="s.csv", apply_valid=False)
        # Loaded now, or already there: SQLite may run the second import wholly after
        # the first committed, and then it rightly finds the sheet loaded.
        assert done.result.imported + done.result.unchanged == 1, done.result

    outcomes = race(rt, load, load)
    if is_postgres(rt):
        # Both read before either commits (the usual case): the index refuses one. On a
        # loaded machine one import can commit before the other reads, which then finds
        # the sheet loaded: also right. The stock below must hold either way.
        assert sorted(outcomes) in (["Conflict", "ok"], ["ok", "ok"]), outcomes
    else:
        assert "ok" in outcomes and set(outcomes) <= {"ok", "Conflict", "busy"}, outcomes
    with rt.sessions() as s:
        assert on_hand(s, s.get(Depot, depot_id), masks) == 110
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.depot_id == depot_id, LedgerEntry.kind == "opening")) == 1


def test_two_item_imports_changing_one_item_at_once_audit_each_change(committed_rt):
    """Without the item's row lock both read lead time 7 and each audits "7 -> n"."""
    rt = committed_rt
    with rt.sessions() as s:
        masks = item(s)
        s.commit()
        name = masks.name

    def lead_time(days):  # type: ignore[no-untyped-def]
        sheet = f"name,category,unit,pack size,lead time\n{name},mask,只,50,{days}\n".encode()

        def call(session):  # type: ignore[no-untyped-def]
            done = imports.import_items(session=session, actor=None, data=sheet,
                                        filename="i.csv", apply_valid=False)
            assert done.updated == 1, done
        return call

    def look(session):  # type: ignore[no-untyped-def]
        return session.scalar(select(SupplyItem.lead_time_days).where(SupplyItem.name == name))

    outcomes = race(rt, lead_time(10), lead_time(12), before=look)
    allowed = {"ok"} if is_postgres(rt) else {"ok", "busy"}
    assert "ok" in outcomes and set(outcomes) <= allowed, outcomes
    with rt.sessions() as s:
        item_id = s.scalar(select(SupplyItem.id).where(SupplyItem.name == name))
        history = [e.detail["changes"]["lead_time_days"] for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action == "supplies.item.update",
                                     AuditEntry.resource_id == str(item_id))
            .order_by(AuditEntry.id))]
        final = s.scalar(select(SupplyItem.lead_time_days).where(SupplyItem.id == item_id))
    assert history[0][0] == 7 and history[-1][1] == final
    for (_, after), (before, _) in zip(history, history[1:], strict=False):
        assert before == after, history
    assert len(history) == outcomes.count("ok")


def test_two_item_imports_creating_one_item_at_once_leave_one_item(committed_rt):
    """Both find no item by that name; the unique name refuses the second (409)."""
    rt = committed_rt
    name = f"新品口罩{tag()}"
    sheet = f"name,category,unit\n{name},mask,只\n".encode()

    def create(session):  # type: ignore[no-untyped-def]
        imports.import_items(session=session, actor=None, data=sheet, filename="i.csv",
                             apply_valid=False)

    def look(session):  # type: ignore[no-untyped-def]
        return session.scalar(select(SupplyItem.id).where(SupplyItem.name == name))

    outcomes = race(rt, create, create, before=look)
    loser = {"Conflict"} if is_postgres(rt) else {"Conflict", "busy"}
    assert outcomes.count("ok") == 1 and (set(outcomes) - {"ok"}) <= loser, outcomes
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SupplyItem).where(
            SupplyItem.name == name)) == 1
