"""Supplies API shapes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from passtrace.core.imports import ImportReport
from passtrace.core.validators import Day

# Printable text without control characters (names, suppliers, reasons).
TEXT = r"^[^\x00-\x1f\x7f]*$"
Quantity = Field(ge=1, le=10_000_000)
Category = Literal["mask", "respirator", "gloves", "gown", "goggles", "disinfectant",
                   "test_kit", "thermometer", "medicine"]
DepotKind = Literal["city_warehouse", "district_warehouse", "hospital", "community",
                    "checkpoint", "enterprise"]


class ItemCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, pattern=TEXT)
    category: Category
    unit: str = Field(min_length=1, max_length=16, pattern=TEXT)
    pack_size: int = Field(default=1, ge=1, le=100_000)
    shelf_life_days: int | None = Field(default=None, ge=1, le=36_500)


class ItemRead(BaseModel):
    id: uuid.UUID
    name: str
    category: str
    unit: str
    pack_size: int
    shelf_life_days: int | None
    lead_time_days: int
    safety_days: int


class DepotCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=80, pattern=TEXT)
    kind: DepotKind
    area_code: str = Field(min_length=2, max_length=12, pattern=r"^\d+$")


class DepotRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    area_code: str


class ReceiptIn(BaseModel):
    item_id: uuid.UUID
    lot_number: str = Field(min_length=1, max_length=40, pattern=TEXT)
    expires_on: Day
    quantity: int = Quantity
    supplier: str = Field(min_length=1, max_length=80, pattern=TEXT)


class IssueIn(BaseModel):
    item_id: uuid.UUID
    quantity: int = Quantity
    consumer: str = Field(min_length=1, max_length=80, pattern=TEXT)
    lot_id: uuid.UUID | None = None


class TransferIn(BaseModel):
    to_depot_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int = Quantity
    lot_id: uuid.UUID | None = None


class TransferReceiveIn(BaseModel):
    received_quantity: int = Field(ge=0, le=10_000_000)


class AdjustmentIn(BaseModel):
    lot_id: uuid.UUID
    reason: Literal["count", "damage", "expiry"]
    note: str = Field(default="", max_length=180, pattern=TEXT)
    counted: int | None = Field(default=None, ge=0, le=10_000_000)
    change: int | None = Field(default=None, ge=1, le=10_000_000)


class MovementRead(BaseModel):
    id: uuid.UUID
    kind: str
    lot_id: uuid.UUID
    quantity: int


class TransferRead(BaseModel):
    id: uuid.UUID
    from_depot_id: uuid.UUID
    to_depot_id: uuid.UUID
    lot_id: uuid.UUID
    quantity: int
    state: str
    received_quantity: int | None
    discrepancy: int | None


class StockRead(BaseModel):
    item_id: uuid.UUID
    item_name: str
    lot_id: uuid.UUID
    lot_number: str
    expires_on: date
    quantity: int


class StockLineRead(BaseModel):
    depot_id: uuid.UUID
    depot_code: str
    depot_name: str
    item_id: uuid.UUID
    item_name: str
    quantity: int


class RequestCreate(BaseModel):
    depot_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int = Quantity
    priority: Literal["critical", "high", "normal"]
    needed_by: Day
    justification: str = Field(min_length=1, max_length=500, pattern=TEXT)


class DecisionIn(BaseModel):
    approved_quantity: int = Field(ge=0, le=10_000_000)
    reason: str = Field(default="", max_length=500, pattern=TEXT)


class RequestRead(BaseModel):
    id: uuid.UUID
    depot_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int
    priority: str
    needed_by: date
    justification: str
    state: str
    approved_quantity: int | None
    decision_reason: str


class ShareRead(BaseModel):
    request: RequestRead
    quantity: int
    explanation: str


class AllocationRead(BaseModel):
    available: int
    shares: list[ShareRead]


class CoverRead(BaseModel):
    depot_id: uuid.UUID
    depot_name: str
    item_id: uuid.UUID
    item_name: str
    on_hand: int
    daily_use: float
    days_of_cover: float | None
    threshold_days: int
    # The epidemic forecast's daily need, which of the two the cover divides by, and why.
    forecast_need: float = 0.0
    basis: Literal["consumption", "forecast"] = "consumption"
    explanation: str = ""


Driver = Literal["staff_on_duty", "quarantined", "contacts_to_test", "cases_in_isolation"]


class RateIn(BaseModel):
    """How much of the item one unit of the driver uses (per shift for staff on duty)."""

    rate: float = Field(ge=0, le=10_000, allow_inf_nan=False)
    periods_per_day: int = Field(default=1, ge=1, le=4)


class RateRead(BaseModel):
    item_id: uuid.UUID
    driver: str
    rate: float
    periods_per_day: int


class TermRead(BaseModel):
    driver: str
    count: int
    rate: float
    periods_per_day: int
    need: float
    explanation: str


class ForecastRead(BaseModel):
    """One depot x item: stock, consumption, the forecast with its drivers, the cover."""

    cover: CoverRead
    terms: list[TermRead]


class SupplyImportReport(ImportReport):
    """An import's row report, with what it created, updated or loaded."""

    created: int = 0
    updated: int = 0
    units: int = 0
