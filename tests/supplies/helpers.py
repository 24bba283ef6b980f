"""Arranging supplies data: an item, a depot in Guiyang's Yunyan district, stock."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.supplies import service
from passtrace.supplies.models import Depot, LedgerEntry, StockBalance, SupplyItem


def fresh() -> str:
    return uuid.uuid4().hex[:8]


def item(session: Session, category: str = "mask") -> SupplyItem:
    return service.create_item(session=session, actor=None, name=f"医用口罩-{fresh()}",
                               category=category, unit="只", pack_size=50,
                               shelf_life_days=730)


def depot(session: Session, kind: str = "district_warehouse",
          area_code: str = "520102") -> Depot:
    return service.create_depot(session=session, actor=None, code=f"D-{fresh()}",
                                name=f"云岩区物资库{fresh()}", kind=kind, area_code=area_code)


def stock(session: Session, d: Depot, i: SupplyItem, lot: str, expires: date,
          quantity: int) -> None:
    service.receive(session=session, actor=None, depot_id=d.id, item_id=i.id,
                    lot_number=lot, expires_on=expires, quantity=quantity, supplier="红十字会")


def on_hand(session: Session, d: Depot, i: SupplyItem) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
        StockBalance.depot_id == d.id, StockBalance.item_id == i.id)) or 0)


def ledger_sum(session: Session, d: Depot, i: SupplyItem) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.quantity), 0)).where(
        LedgerEntry.depot_id == d.id, LedgerEntry.item_id == i.id)) or 0)
