"""Two depot clerks issuing the last units of a lot at the same moment (both databases).

Committed data in a database of its own per backend (tests/concurrency.py). Without the
balance row's lock, PostgreSQL lets both issues read 5 and write 0: ten units handed
out of five, and the balance row no longer the sum of its ledger.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from passtrace.supplies import service
from passtrace.supplies.models import LedgerEntry, StockBalance
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
