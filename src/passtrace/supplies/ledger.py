"""The stock ledger: every movement writes an entry and moves locked balance rows, one
(`move`) or all of a depot's lots of an item at once in FEFO order (`locked_stock`).

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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import InvalidState
from passtrace.core.ids import uuid7
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


def locked_stock(session: Session, depot_id: uuid.UUID, item_id: uuid.UUID
                 ) -> list[tuple[StockBalance, SupplyLot]]:
    """The depot's lots of an item that hold stock, earliest expiry first (ties by lot
    number), every balance row locked: one statement for an issue's whole FEFO read.

    The same race as move's (two issues of the last units), closed the same way: on
    PostgreSQL FOR UPDATE, so the second issue waits and then re-reads the rows, which
    drop out when the first left them at zero; on SQLite a write matching the same rows
    takes the database's write lock before the read. Rows are locked in FEFO order
    everywhere they are locked together, so two takers cannot deadlock.
    """
    where = (StockBalance.depot_id == depot_id, StockBalance.item_id == item_id,
             StockBalance.quantity > 0)
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(StockBalance).where(*where)
                        .values(quantity=StockBalance.quantity))
    stmt = (select(StockBalance, SupplyLot).join(SupplyLot, SupplyLot.id == StockBalance.lot_id)
            .where(*where).order_by(SupplyLot.expires_on, SupplyLot.lot_number)
            .with_for_update(of=StockBalance)
            .execution_options(populate_existing=True))
    return [(b, lot) for b, lot in session.execute(stmt)]


@dataclass(frozen=True)
class Taken:
    """Units taken from one locked lot for one destination."""

    balance: StockBalance
    lot: SupplyLot
    quantity: int


def take_fefo(held: list[tuple[StockBalance, SupplyLot]], quantity: int) -> list[Taken]:
    """Take `quantity` from the locked lots, earliest expiry first, lowering their balances
    in memory (the caller flushes); refuse when they hold less."""
    left, taken = quantity, []
    for balance, lot in held:
        if left == 0:
            break
        if balance.quantity == 0:
            continue
        take = min(left, balance.quantity)
        balance.quantity -= take
        balance.updated_at = utcnow()
        taken.append(Taken(balance, lot, take))
        left -= take
    if left > 0:
        for t in taken:  # leave the rows as they were for a caller that carries on
            t.balance.quantity += t.quantity
        raise InvalidState("Not enough stock: %(available)s left at this depot.",
                           code="insufficient_stock", available=quantity - left)
    return taken


def write_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Insert ledger rows (each a dict of LedgerEntry's columns) in one statement, after
    flushing the balance changes they go with."""
    if not entries:
        return
    now = utcnow()
    rows = [{"id": uuid7(), "created_at": now, "counterparty": "", "reason": "",
             "transfer_id": None, "actor_id": None, **e} for e in entries]
    insert_rows(session, LedgerEntry, rows)


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows holding every column of `model`'s table, after flushing what the
    session holds: PostgreSQL by COPY (an allocation writes thousands of transfers and
    ledger rows at once), SQLite by one executemany."""
    if session.get_bind().dialect.name == "postgresql":
        columns = tuple(c.name for c in model.__table__.c)
        audit_service.copy_rows(session, model.__tablename__, columns, rows)
    else:
        session.flush()
        session.execute(insert(model), rows)
