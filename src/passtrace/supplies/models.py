"""Supplies: items, lots, depots, the stock ledger, balances and transfers.

The ledger is the record; a balance row per depot x lot is its running sum, kept so an
issue reads one locked row instead of summing the ledger. Both change in one
transaction (service.py), and the balance can never go below zero (CHECK).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.clock import utcnow
from passtrace.core.db import Base, CreatedMixin, IdMixin

CATEGORIES = ("mask", "respirator", "gloves", "gown", "goggles", "disinfectant", "test_kit",
              "thermometer", "medicine")
DEPOT_KINDS = ("city_warehouse", "district_warehouse", "hospital", "community", "checkpoint",
               "enterprise")
# Ledger kinds; quantity is signed (receipts, openings and transfers in add, the rest
# subtract). "opening" is the stock a depot held when it started using PassTrace, loaded
# from a sheet (imports.py): at most one per depot x lot, so re-importing adds nothing.
LEDGER_KINDS = ("receipt", "opening", "issue", "transfer_out", "transfer_in", "adjustment")
ADJUSTMENT_REASONS = ("count", "damage", "expiry")
TRANSFER_STATES = ("in_transit", "received")


class SupplyItem(IdMixin, CreatedMixin, Base):
    """Something stocked: a kind of mask, a test kit, a medicine."""

    __tablename__ = "supply_items"

    name: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(16))
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    # Days from ordering to stock on the shelf, and the margin kept beyond them: cover
    # below their sum is a shortage (cover.py).
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)
    safety_days: Mapped[int] = mapped_column(Integer, default=3)


class SupplyLot(IdMixin, CreatedMixin, Base):
    """One production lot of an item, with its expiry date."""

    __tablename__ = "supply_lots"
    __table_args__ = (UniqueConstraint("item_id", "lot_number"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_items.id"))
    lot_number: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date]


class Depot(IdMixin, CreatedMixin, Base):
    """Where stock is kept: a warehouse, hospital, community, checkpoint or enterprise."""

    __tablename__ = "supply_depots"
    __table_args__ = (Index("ix_supply_depots_area", "area_code"),)

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(24))
    area_code: Mapped[str] = mapped_column(String(12))


class StockBalance(IdMixin, Base):
    """The stock of one lot at one depot: the sum of its ledger entries."""

    __tablename__ = "supply_balances"
    __table_args__ = (UniqueConstraint("depot_id", "lot_id"),
                      CheckConstraint("quantity >= 0", name="quantity_not_negative"),
                      Index("ix_supply_balances_depot_item", "depot_id", "item_id"))

    depot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_depots.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_items.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_lots.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplyTransfer(IdMixin, CreatedMixin, Base):
    """Stock sent from one depot to another: in transit until the receiver counts it."""

    __tablename__ = "supply_transfers"
    __table_args__ = (Index("ix_supply_transfers_to", "to_depot_id", "state"),)

    from_depot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_depots.id"))
    to_depot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_depots.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_items.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_lots.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="in_transit")
    received_quantity: Mapped[int | None] = mapped_column(Integer)
    # Received minus sent: negative when units went missing on the way.
    discrepancy: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime | None]
    sent_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    received_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class LedgerEntry(IdMixin, CreatedMixin, Base):
    """One movement of stock; never changed once written."""

    __tablename__ = "supply_ledger"
    __table_args__ = (Index("ix_supply_ledger_depot_lot", "depot_id", "lot_id"),
                      Index("ix_supply_ledger_depot_item_time", "depot_id", "item_id",
                            "created_at"),
                      # Two imports of one opening-stock sheet at once: without this, both
                      # see no opening entry and the stock is counted twice.
                      Index("uq_supply_ledger_opening", "depot_id", "lot_id", unique=True,
                            sqlite_where=text("kind = 'opening'"),
                            postgresql_where=text("kind = 'opening'")))

    depot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_depots.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_items.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_lots.id"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    # Supplier or donor for a receipt, consumer for an issue.
    counterparty: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("supply_transfers.id"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


PRIORITIES = ("critical", "high", "normal")  # most urgent first
REQUEST_STATES = ("open", "approved", "partly_approved", "rejected")


class SupplyRequest(IdMixin, CreatedMixin, Base):
    """A depot (checkpoint, community, hospital, enterprise) asking for an item."""

    __tablename__ = "supply_requests"
    __table_args__ = (Index("ix_supply_requests_state_item", "state", "item_id"),
                      Index("ix_supply_requests_depot", "depot_id", "created_at"))

    depot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_depots.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(10))
    needed_by: Mapped[date]
    justification: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="open")
    approved_quantity: Mapped[int | None] = mapped_column(Integer)
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]


# What the epidemic-driven forecast multiplies (forecast.py); each is counted in a depot's
# area by a source the entry points wire in (drivers.py).
DRIVERS = ("staff_on_duty", "quarantined", "contacts_to_test", "cases_in_isolation")


class ForecastRate(IdMixin, Base):
    """How much of an item one unit of a driver uses: 2 masks per staff member per shift
    (3 shifts a day), 1 test kit per contact awaiting a test, ...

    Daily need of the item = the sum over its rates of rate x periods_per_day x driver.
    One row per item x driver (the unique key is what stops two officers setting the same
    rate at once from leaving two rows).
    """

    __tablename__ = "supply_forecast_rates"
    __table_args__ = (UniqueConstraint("item_id", "driver"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_items.id"))
    driver: Mapped[str] = mapped_column(String(24))
    rate: Mapped[float] = mapped_column(Float)
    # Shifts a day for staff on duty (the rate is per shift); 1 for the per-day drivers.
    periods_per_day: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
