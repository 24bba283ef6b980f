"""Two officers committing the same allocation at the same moment (both databases).

Committed data in a database of its own per backend (tests/concurrency.py). The commit
reads the open requests and the warehouse's stock, then decides and sends: without its
locks (the warehouse row, the request rows, the balance rows) both commits would read
the same open requests and the same stock, and the requests would be decided twice and
the stock handed out twice.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from passtrace.accounts import service as account_service
from passtrace.audit.models import AuditEntry
from passtrace.notices.models import Notice
from passtrace.notices.service import InAppNotifier
from passtrace.supplies import allocation
from passtrace.supplies.models import LedgerEntry, StockBalance, SupplyRequest, SupplyTransfer
from tests.concurrency import is_postgres, race, tag
from tests.conftest import PASSWORD
from tests.supplies.helpers import depot, item, stock


def test_two_officers_committing_one_allocation_at_once_hand_the_stock_out_once(
        committed_rt):
    rt = committed_rt
    with rt.sessions() as s:
        clerk = account_service.create(session=s, rt=rt, actor=None, username=f"clerk-{tag()}",
                                       password=PASSWORD, display_name="卡口")
        warehouse, i = depot(s), item(s)
        checkpoints = [depot(s, "checkpoint") for _ in range(2)]
        stock(s, warehouse, i, "ONLY", date(2027, 1, 1), 100)
        filed = [SupplyRequest(depot_id=d.id, item_id=i.id, quantity=q, priority=p,
                               needed_by=date(2027, 1, 1), justification="执勤", state="open",
                               decision_reason="", requested_by=clerk.id)
                 for d, (q, p) in zip(checkpoints, [(60, "critical"), (80, "normal")],
                                      strict=True)]
        s.add_all(filed)
        s.commit()
        warehouse_id, item_id = warehouse.id, i.id
        request_ids, clerk_id = [r.id for r in filed], clerk.id

    def commit(session):  # type: ignore[no-untyped-def]
        return allocation.commit(session=session, actor=None, warehouse_id=warehouse_id,
                                 item_id=item_id, notifier=InAppNotifier(session))

    # Both officers had the preview on screen (100 units: 60 and 40) before pressing
    # "commit".
    def look(session):  # type: ignore[no-untyped-def]
        return allocation.preview(session=session, actor=None, warehouse_id=warehouse_id,
                                  item_id=item_id)

    outcomes = race(rt, commit, commit, before=look)
    loser = {"InvalidState"} if is_postgres(rt) else {"InvalidState", "busy"}
    assert outcomes.count("ok") == 1 and (set(outcomes) - {"ok"}) <= loser, outcomes
    with rt.sessions() as s:
        assert s.scalar(select(StockBalance.quantity)
                        .where(StockBalance.depot_id == warehouse_id)) == 0
        sent = s.scalars(select(SupplyTransfer.quantity)
                         .where(SupplyTransfer.from_depot_id == warehouse_id)).all()
        assert sorted(sent) == [40, 60]
        assert s.scalar(select(func.sum(LedgerEntry.quantity)).where(
            LedgerEntry.depot_id == warehouse_id, LedgerEntry.kind == "transfer_out")) == -100
        decided = s.execute(select(SupplyRequest.state, SupplyRequest.approved_quantity)
                            .where(SupplyRequest.id.in_(request_ids))
                            .order_by(SupplyRequest.quantity)).all()
        assert [tuple(r) for r in decided] == [("approved", 60), ("partly_approved", 40)]
        # Each request decided (and audited) once.
        audited = s.scalars(select(AuditEntry.resource_id).where(
            AuditEntry.resource_id.in_([str(r) for r in request_ids]))).all()
        assert sorted(audited) == sorted(str(r) for r in request_ids)
        # And its requester told once, of the decision that stands.
        told = s.execute(select(Notice.params).where(Notice.user_id == clerk_id)).all()
        assert sorted(p["approved"] for p, in told) == [40, 60]
