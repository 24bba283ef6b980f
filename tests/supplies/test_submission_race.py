"""A double-tapped receipt whose two taps arrive at the same moment (both databases).

Each tap looks for its form id, finds none, and books the delivery: without the claim's
primary key the depot would hold the delivery twice. With it, PostgreSQL makes the second
INSERT wait for the first transaction and then fail, and the tap shows the first one's
result; SQLite's one writer refuses the second as busy (the client retries and finds it).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from passtrace.supplies import service, submissions
from passtrace.supplies.models import LedgerEntry, StockBalance
from tests.concurrency import is_postgres, race
from tests.supplies.helpers import depot, item, stock


def test_two_taps_of_one_receipt_at_once_book_it_once(committed_rt):
    rt = committed_rt
    with rt.sessions() as s:
        d, i = depot(s, "checkpoint"), item(s)
        # The lot is already on the shelf: both taps would add to the same balance row.
        stock(s, d, i, "TAP-1", date(2027, 6, 1), 10)
        s.commit()
        depot_id, item_id = d.id, i.id
    form_id = uuid.uuid4()
    results: list[str] = []

    def tap(session):  # type: ignore[no-untyped-def]
        # What the receive page's save does: claim the form id, then move the stock.
        earlier = submissions.claim(session, form_id, "receipt")
        if earlier:
            results.append(earlier)
            return
        service.receive(session=session, actor=None, depot_id=depot_id, item_id=item_id,
                        lot_number="TAP-1", expires_on=date(2027, 6, 1), quantity=40,
                        supplier="红十字会")
        results.append(submissions.done(session, form_id, f"/supplies/depots/{depot_id}"))

    outcomes = race(rt, tap, tap)
    allowed = {"ok"} if is_postgres(rt) else {"ok", "busy"}
    assert set(outcomes) <= allowed and "ok" in outcomes, outcomes
    with rt.sessions() as s:
        held = s.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0))
                        .where(StockBalance.depot_id == depot_id))
        receipts = s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.depot_id == depot_id, LedgerEntry.kind == "receipt"))
    assert held == 50 and receipts == 2  # the opening stock and one of the taps
    if is_postgres(rt):  # the second tap waited, then was shown the first one's page
        assert results == [f"/supplies/depots/{depot_id}"] * 2
