"""The stock ledger: every movement writes an entry and moves one locked balance row.

The race: two issues of the last units at one depot. Each reads the balance, sees
enough, and writes balance - n: without a lock both pass and one unit is handed out
twice (PostgreSQL commits both; the balance row then disagrees with its ledger). So
the balance row is locked before it is read (core.db.locked: SELECT ... FOR UPDATE on
PostgreSQL, where the second issue waits and then sees the new balance; on SQLite the
lock is the database's single writer, core/sqlite_writes, and a writer that read
first is refused as busy). The CHECK (quantity >= 0) is the last line behind it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import InvalidState
from passtrace.supplies.models import LedgerEntry, StockBalance, SupplyLot


def locked_balance(session: Session, depot_id: uuid.UUID, lot: SupplyLot) -> StockBalance:
    """The depot x lot balance, locked; created (at zero) on the lot's first arrival."""
    balance_id = session.scalar(select(StockBalance.id).where(
        StockBalance.depot_id == depot_id, StockBalance.lot_id == lot.id))
    if balance_id is None:
        row = StockBalance(depot_id=depot_id, item_id=lot.item_id, lot_id=lot.id, quantity=0,
                           updated_at=utcnow())
        session.add(row)
        # The unique (depot, lot) makes a second first arrival fail rather than duplicate.
        session.flush()
        return row
    held = locked(session, StockBalance, balance_id)
    assert held is not None  # balance rows are never deleted
    return held


def move(session: Session, *, depot_id: uuid.UUID, lot: SupplyLot, kind: str, quantity: int,
         actor_id: uuid.UUID | None, counterparty: str = "", reason: str = "",
         transfer_id: uuid.UUID | None = None) -> LedgerEntry:
    """Write one signed movement and apply it to its balance; refuse to go below zero."""
    row = locked_balance(session, depot_id, lot)
    if row.quantity + quantity < 0:
        raise InvalidState("Not enough stock: %(available)s left in this lot.",
                           code="insufficient_stock", available=row.quantity)
    row.quantity += quantity
    row.updated_at = utcnow()
    entry = LedgerEntry(depot_id=depot_id, item_id=lot.item_id, lot_id=lot.id, kind=kind,
                        quantity=quantity, counterparty=counterparty, reason=reason,
                        transfer_id=transfer_id, actor_id=actor_id)
    session.add(entry)
    session.flush()
    return entry
