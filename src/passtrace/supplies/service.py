"""Supplies services: catalogue, depots and stock movements.

Each takes session=, flushes (never commits) and records its audit entry in the same
transaction. Movements go through ledger.move, which holds the balance row's lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.audit import lanes as audit_lanes
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.supplies import authz, ledger
from passtrace.supplies.models import (
    ADJUSTMENT_REASONS,
    CATEGORIES,
    DEPOT_KINDS,
    Depot,
    LedgerEntry,
    StockBalance,
    SupplyItem,
    SupplyLot,
    SupplyTransfer,
)


def _positive(quantity: int) -> None:
    if quantity <= 0:
        raise ValidationFailed("The quantity must be a whole number above zero.",
                               fields={"quantity": N_("Must be above zero.")})


def _actor_id(actor: Principal | None) -> uuid.UUID | None:
    return actor.user_id if actor else None


def create_item(*, session: Session, actor: Principal | None, name: str, category: str,
                unit: str, pack_size: int = 1, shelf_life_days: int | None = None
                ) -> SupplyItem:
    """Add an item to the catalogue."""
    if category not in CATEGORIES:
        raise ValidationFailed("Unknown item category.", fields={"category": N_("Unknown.")})
    if pack_size <= 0 or (shelf_life_days is not None and shelf_life_days <= 0):
        raise ValidationFailed("Pack size and shelf life must be above zero.")
    if session.scalar(select(SupplyItem.id).where(SupplyItem.name == name)) is not None:
        raise Conflict("An item with this name already exists.")
    item = SupplyItem(name=name, category=category, unit=unit, pack_size=pack_size,
                      shelf_life_days=shelf_life_days)
    session.add(item)
    session.flush()
    audit_service.record(session=session, actor=actor, action="supplies.item.create",
                         resource_type="supply_item", resource_id=item.id)
    return item


def create_depot(*, session: Session, actor: Principal | None, code: str, name: str,
                 kind: str, area_code: str) -> Depot:
    """Place a depot in the area tree."""
    if kind not in DEPOT_KINDS:
        raise ValidationFailed("Unknown depot kind.", fields={"kind": N_("Unknown.")})
    if area_service.get(session=session, code=area_code) is None:
        raise ValidationFailed("Unknown area.", fields={"area_code": N_("Unknown.")})
    if actor is not None and not actor.covers_area(authz.MANAGE, area_code):
        raise Forbidden("You may not add a depot in this area.")
    if session.scalar(select(Depot.id).where(Depot.code == code)) is not None:
        raise Conflict("A depot with this code already exists.")
    depot = Depot(code=code, name=name, kind=kind, area_code=area_code)
    session.add(depot)
    session.flush()
    audit_service.record(session=session, actor=actor, action="supplies.depot.create",
                         resource_type="supply_depot", resource_id=depot.id)
    return depot


def get_depot(session: Session, depot_id: uuid.UUID) -> Depot:
    depot = session.get(Depot, depot_id)
    if depot is None:
        raise NotFound("No such depot.")
    return depot


def get_item(session: Session, item_id: uuid.UUID) -> SupplyItem:
    item = session.get(SupplyItem, item_id)
    if item is None:
        raise NotFound("No such item.")
    return item


def lot_for(*, session: Session, item: SupplyItem, lot_number: str,
            expires_on: date) -> SupplyLot:
    """The item's lot by number, created on first receipt; its expiry must agree."""
    lot = session.scalar(select(SupplyLot).where(SupplyLot.item_id == item.id,
                                                 SupplyLot.lot_number == lot_number))
    if lot is None:
        lot = SupplyLot(item_id=item.id, lot_number=lot_number, expires_on=expires_on)
        session.add(lot)
        session.flush()
    elif lot.expires_on != expires_on:
        raise Conflict("This lot is already recorded with another expiry date.")
    return lot


def receive(*, session: Session, actor: Principal | None, depot_id: uuid.UUID,
            item_id: uuid.UUID, lot_number: str, expires_on: date, quantity: int,
            supplier: str) -> LedgerEntry:
    """A delivery from a supplier or donor: stock of one lot arrives at a depot."""
    _positive(quantity)
    depot = get_depot(session, depot_id)
    authz.require_manage(actor, depot)
    lot = lot_for(session=session, item=get_item(session, item_id), lot_number=lot_number,
                  expires_on=expires_on)
    entry = ledger.move(session, depot_id=depot.id, lot=lot, kind="receipt", quantity=quantity,
                        actor_id=_actor_id(actor), counterparty=supplier)
    audit_service.record(session=session, actor=actor, action="supplies.receive",
                         resource_type="supply_depot", resource_id=depot.id,
                         detail={"lot": lot_number, "quantity": quantity})
    return entry


@dataclass(frozen=True)
class Pick:
    """Units taken from one lot."""

    lot: SupplyLot
    quantity: int


def fefo(session: Session, *, depot_id: uuid.UUID, item_id: uuid.UUID,
         quantity: int) -> list[Pick]:
    """First expiring, first out: the lots an issue of `quantity` takes, earliest expiry
    first (ties by lot number). Reads unlocked; ledger.move re-checks under the lock."""
    rows = session.execute(
        select(SupplyLot, StockBalance.quantity)
        .join(StockBalance, StockBalance.lot_id == SupplyLot.id)
        .where(StockBalance.depot_id == depot_id, StockBalance.item_id == item_id,
               StockBalance.quantity > 0)
        .order_by(SupplyLot.expires_on, SupplyLot.lot_number)).all()
    picks: list[Pick] = []
    left = quantity
    for lot, available in rows:
        if left == 0:
            break
        take = min(left, available)
        picks.append(Pick(lot, take))
        left -= take
    if left > 0:
        raise InvalidState("Not enough stock: %(available)s left at this depot.",
                           code="insufficient_stock", available=quantity - left)
    return picks


def _picks(session: Session, depot: Depot, item_id: uuid.UUID, quantity: int,
           lot_id: uuid.UUID | None) -> list[Pick]:
    if lot_id is None:
        return fefo(session, depot_id=depot.id, item_id=item_id, quantity=quantity)
    lot = session.get(SupplyLot, lot_id)
    if lot is None or lot.item_id != item_id:
        raise NotFound("No such lot of this item.")
    return [Pick(lot, quantity)]


def issue(*, session: Session, actor: Principal | None, depot_id: uuid.UUID,
          item_id: uuid.UUID, quantity: int, consumer: str,
          lot_id: uuid.UUID | None = None) -> list[LedgerEntry]:
    """Hand stock to a consumer: the named lot, or the earliest-expiring lots first.

    Earliest-expiring first is the clerk's everyday call, kept to few round trips: one
    locked read of the depot's lots of the item (ledger.locked_stock, the race's lock),
    the balance UPDATEs, one ledger INSERT, the audit entry.
    """
    _positive(quantity)
    depot = get_depot(session, depot_id)
    authz.require_manage(actor, depot)
    if lot_id is not None:
        get_item(session, item_id)
        entries = [ledger.move(session, depot_id=depot.id, lot=p.lot, kind="issue",
                               quantity=-p.quantity, actor_id=_actor_id(actor),
                               counterparty=consumer)
                   for p in _picks(session, depot, item_id, quantity, lot_id)]
    else:
        held = ledger.locked_stock(session, depot.id, item_id)
        if not held:
            get_item(session, item_id)  # an unknown item is a 404, not "no stock"
        entries = [LedgerEntry(id=uuid7(), created_at=utcnow(), depot_id=depot.id,
                               item_id=item_id, lot_id=t.lot.id, kind="issue",
                               quantity=-t.quantity, counterparty=consumer, reason="",
                               transfer_id=None, actor_id=_actor_id(actor))
                   for t in ledger.take_fefo(held, quantity)]
        session.add_all(entries)
        session.flush()
    # A side lane of the audit chain (audit/lanes.py): issues are the hot path, and the
    # main chain's one lock, held to commit, queued concurrent clerks behind each other.
    audit_lanes.append(session=session, actor=actor, action="supplies.issue",
                         resource_type="supply_depot", resource_id=depot.id,
                         detail={"item": str(item_id), "quantity": quantity})
    return entries


def transfer(*, session: Session, actor: Principal | None, from_depot_id: uuid.UUID,
             to_depot_id: uuid.UUID, item_id: uuid.UUID, quantity: int,
             lot_id: uuid.UUID | None = None) -> list[SupplyTransfer]:
    """Send stock to another depot: it leaves now and is in transit until received."""
    _positive(quantity)
    source = get_depot(session, from_depot_id)
    # The sender's power first: compared before, another area's officer could tell
    # from "two different depots" (422) that a depot id exists (404 otherwise).
    authz.require_manage(actor, source)
    target = get_depot(session, to_depot_id)
    if source.id == target.id:
        raise ValidationFailed("A transfer needs two different depots.")
    get_item(session, item_id)
    sent: list[SupplyTransfer] = []
    for p in _picks(session, source, item_id, quantity, lot_id):
        t = SupplyTransfer(from_depot_id=source.id, to_depot_id=target.id, item_id=item_id,
                           lot_id=p.lot.id, quantity=p.quantity, state="in_transit",
                           sent_by=_actor_id(actor))
        session.add(t)
        session.flush()
        ledger.move(session, depot_id=source.id, lot=p.lot, kind="transfer_out",
                    quantity=-p.quantity, actor_id=_actor_id(actor), counterparty=target.name,
                    transfer_id=t.id)
        sent.append(t)
    audit_service.record(session=session, actor=actor, action="supplies.transfer",
                         resource_type="supply_depot", resource_id=source.id,
                         detail={"to": str(target.id), "quantity": quantity})
    return sent


def send_many(*, session: Session, actor: Principal | None, source: Depot,
              item_id: uuid.UUID, held: list[tuple[StockBalance, SupplyLot]],
              shipments: list[tuple[uuid.UUID, int]], names: dict[uuid.UUID, str],
              audit: list[dict[str, Any]]) -> int:
    """Send several depots (`names`: id -> name) their units of one item from the
    source's locked lots `held` (ledger.locked_stock: the lock that keeps two takers from
    handing out the same units), earliest expiry first, as set-based writes: the
    transfers in one INSERT, their ledger rows in another, one UPDATE per lot touched.
    The audit entry is added to `audit` for the caller to write. Returns the number of
    transfers (one per shipment and lot).
    """
    now, actor_id = utcnow(), _actor_id(actor)
    transfers: list[dict[str, object]] = []
    entries: list[dict[str, object]] = []
    for to_depot_id, quantity in shipments:
        _positive(quantity)
        if to_depot_id == source.id or to_depot_id not in names:
            raise ValidationFailed("A transfer needs two different depots.")
        for t in ledger.take_fefo(held, quantity):
            transfer_id = uuid7()
            transfers.append({"id": transfer_id, "created_at": now, "from_depot_id": source.id,
                              "to_depot_id": to_depot_id, "item_id": item_id,
                              "lot_id": t.lot.id, "quantity": t.quantity,
                              "state": "in_transit", "sent_by": actor_id,
                              "received_quantity": None, "discrepancy": None,
                              "received_at": None, "received_by": None})
            entries.append({"depot_id": source.id, "item_id": item_id, "lot_id": t.lot.id,
                            "kind": "transfer_out", "quantity": -t.quantity,
                            "counterparty": names[to_depot_id], "transfer_id": transfer_id,
                            "actor_id": actor_id})
    if transfers:
        ledger.insert_rows(session, SupplyTransfer, transfers)
    ledger.write_entries(session, entries)
    # One entry for the whole batch, not one per shipment: each shipment is a transfer
    # row with its sender, and an allocation's commit audits every request's decision,
    # so a row per shipment would only double the chain's writes (10k at city scale).
    audit.append({"action": "supplies.transfer", "resource_type": "supply_depot",
                  "resource_id": source.id,
                  "detail": {"item": str(item_id), "depots": len(shipments),
                             "quantity": sum(q for _, q in shipments)}})
    return len(transfers)


def receive_transfer(*, session: Session, actor: Principal | None, transfer_id: uuid.UUID,
                     received_quantity: int) -> SupplyTransfer:
    """The receiving depot counts what arrived; any difference is kept as the discrepancy."""
    if received_quantity < 0:
        raise ValidationFailed("The received quantity cannot be negative.",
                               fields={"received_quantity": N_("Cannot be negative.")})
    # Two staff confirming one delivery at once: the row lock lets the second see it done.
    t = locked(session, SupplyTransfer, transfer_id)
    if t is None:
        raise NotFound("No such transfer.")
    target = get_depot(session, t.to_depot_id)
    authz.require_manage(actor, target, missing=N_("No such transfer."))
    if t.state != "in_transit":
        raise InvalidState("This transfer has already been received.")
    if received_quantity > t.quantity:
        raise ValidationFailed("More received than was sent.",
                               fields={"received_quantity": N_("More than was sent.")})
    lot = session.get(SupplyLot, t.lot_id)
    assert lot is not None
    if received_quantity:
        ledger.move(session, depot_id=target.id, lot=lot, kind="transfer_in",
                    quantity=received_quantity, actor_id=_actor_id(actor),
                    transfer_id=t.id)
    t.state, t.received_quantity = "received", received_quantity
    t.discrepancy = received_quantity - t.quantity
    t.received_at, t.received_by = utcnow(), _actor_id(actor)
    session.flush()
    audit_service.record(session=session, actor=actor, action="supplies.transfer.receive",
                         resource_type="supply_transfer", resource_id=t.id,
                         detail={"received": received_quantity, "discrepancy": t.discrepancy})
    return t


def adjust(*, session: Session, actor: Principal | None, depot_id: uuid.UUID,
           lot_id: uuid.UUID, reason: str, note: str, counted: int | None = None,
           change: int | None = None) -> LedgerEntry | None:
    """Correct stock: a count sets the lot's balance; damage or expiry writes units off.

    A count gives `counted` (what is on the shelf); damage and expiry give `change`
    (units removed, above zero). Nothing is written when a count agrees.
    """
    if reason not in ADJUSTMENT_REASONS:
        raise ValidationFailed("Unknown adjustment reason.", fields={"reason": N_("Unknown.")})
    depot = get_depot(session, depot_id)
    authz.require_manage(actor, depot)
    lot = session.get(SupplyLot, lot_id)
    if lot is None:
        raise NotFound("No such lot of this item.")
    if reason == "count":
        if counted is None or counted < 0:
            raise ValidationFailed("A count needs the number on the shelf.",
                                   fields={"counted": N_("Cannot be negative.")})
        # The delta is computed from the locked balance inside ledger.move's transaction:
        # lock it first so an issue committing meanwhile is not overwritten by the count.
        row = ledger.locked_balance(session, depot.id, lot)
        delta = counted - row.quantity
    else:
        if change is None or change <= 0:
            raise ValidationFailed("Give how many units are written off.",
                                   fields={"change": N_("Must be above zero.")})
        delta = -change
    if delta == 0:
        return None
    entry = ledger.move(session, depot_id=depot.id, lot=lot, kind="adjustment",
                        quantity=delta, actor_id=_actor_id(actor),
                        reason=f"{reason}: {note}"[:200])
    audit_service.record(session=session, actor=actor, action="supplies.adjust",
                         resource_type="supply_depot", resource_id=depot.id,
                         reason=note, detail={"reason": reason, "change": delta})
    return entry
