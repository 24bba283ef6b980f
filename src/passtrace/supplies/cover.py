"""Days of cover per depot x item, and the shortage signal.

Daily use is the moving average of issues over the last `window_days` local days
(issues only: transfers move stock without consuming it). The forecast (forecast.py) is
the need the epidemic drivers in the depot's area imply. Days of cover is what is on
hand divided by the larger of the two, and `basis` says which one it was; a depot x
item with neither use nor forecast need has no finite cover and is never short. A
shortage is cover below the item's lead time plus its safety days: an order placed now
would arrive after the shelf is empty. The early-warning "supply shortage" rule reads
`shortages()`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import LOCAL_TZ, local_today
from passtrace.core.i18n import gettext
from passtrace.supplies import drivers
from passtrace.supplies import forecast as forecasting
from passtrace.supplies.models import Depot, LedgerEntry, StockBalance, SupplyItem

WINDOW_DAYS = 14


@dataclass(frozen=True)
class Cover:
    """One depot x item: stock, use and how long it lasts."""

    depot_id: uuid.UUID
    depot_name: str
    area_code: str
    item_id: uuid.UUID
    item_name: str
    on_hand: int
    daily_use: float
    days_of_cover: float | None  # None: nothing used in the window, no forecast need
    threshold_days: int  # lead time + safety days
    forecast: forecasting.Forecast | None = None  # None: the item has no rates
    unit: str = ""

    @property
    def forecast_need(self) -> float:
        return self.forecast.daily_need if self.forecast is not None else 0.0

    @property
    def basis(self) -> Literal["consumption", "forecast"]:
        """What the cover divides by: "forecast" when it exceeds use, else "consumption"."""
        return "forecast" if self.forecast_need > self.daily_use else "consumption"

    def explain(self) -> str:
        """Why the cover is what it is, in the reader's language."""
        if self.basis == "forecast" and self.forecast is not None:
            return self.forecast.explain()
        use = round(self.daily_use, 1)
        return gettext("consumption: %(use)s %(unit)s a day (average of issues over "
                       "%(days)s days)", use=use, unit=self.unit, days=WINDOW_DAYS)

    @property
    def short(self) -> bool:
        return self.days_of_cover is not None and self.days_of_cover < self.threshold_days


def covers(session: Session, *, area_code: str | None = None, today: date | None = None,
           window_days: int = WINDOW_DAYS) -> list[Cover]:
    """Days of cover for every depot x item with stock or use, in an area (or all)."""
    today = today or local_today()
    since = datetime.combine(today - timedelta(days=window_days - 1), time(), LOCAL_TZ)
    depots = select(Depot.id)
    if area_code:
        depots = depots.where(Depot.area_code.startswith(significant_prefix(area_code)))
    used = dict(((d, i), -int(q)) for d, i, q in session.execute(
        select(LedgerEntry.depot_id, LedgerEntry.item_id, func.sum(LedgerEntry.quantity))
        .where(LedgerEntry.kind == "issue", LedgerEntry.created_at >= since,
               LedgerEntry.depot_id.in_(depots))
        .group_by(LedgerEntry.depot_id, LedgerEntry.item_id)))
    stock = dict(((d, i), int(q)) for d, i, q in session.execute(
        select(StockBalance.depot_id, StockBalance.item_id, func.sum(StockBalance.quantity))
        .where(StockBalance.depot_id.in_(depots))
        .group_by(StockBalance.depot_id, StockBalance.item_id)))
    keys = sorted(set(used) | set(stock))
    depot_rows = {d.id: d for d in session.scalars(
        select(Depot).where(Depot.id.in_({k[0] for k in keys})))}
    item_rows = {i.id: i for i in session.scalars(
        select(SupplyItem).where(SupplyItem.id.in_({k[1] for k in keys})))}
    rates = forecasting.rates_of(session, item_rows)
    # Only depots stocking an item with rates need the drivers of their area counted.
    counts = forecasting.DriverCounts(session, today)
    out: list[Cover] = []
    for depot_id, item_id in keys:
        d, it = depot_rows[depot_id], item_rows[item_id]
        daily = used.get((depot_id, item_id), 0) / window_days
        on_hand = stock.get((depot_id, item_id), 0)
        need = (forecasting.forecast(it, rates[item_id], counts.own(significant_prefix(
            d.area_code))) if item_id in rates else None)
        rate = max(daily, need.daily_need if need is not None else 0.0)
        out.append(Cover(depot_id, d.name, d.area_code, item_id, it.name, on_hand, daily,
                         on_hand / rate if rate > 0 else None,
                         it.lead_time_days + it.safety_days, need, it.unit))
    return out


def shortages(session: Session, *, area_code: str | None = None,
              today: date | None = None) -> list[Cover]:
    """Depot x items whose cover is below lead time + safety days, shortest first.

    For the early-warning rule "supply shortage" (built elsewhere): one alert per entry.
    """
    short = [c for c in covers(session, area_code=area_code, today=today) if c.short]
    return sorted(short, key=lambda c: (c.days_of_cover or 0.0, c.depot_name))


def one(session: Session, *, depot: Depot, item: SupplyItem, today: date | None = None,
        window_days: int = WINDOW_DAYS) -> Cover:
    """The cover of one depot x item, with its forecast, even when nothing is stocked."""
    today = today or local_today()
    since = datetime.combine(today - timedelta(days=window_days - 1), time(), LOCAL_TZ)
    used = -int(session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.quantity), 0))
        .where(LedgerEntry.kind == "issue", LedgerEntry.created_at >= since,
               LedgerEntry.depot_id == depot.id, LedgerEntry.item_id == item.id)) or 0)
    on_hand = int(session.scalar(
        select(func.coalesce(func.sum(StockBalance.quantity), 0))
        .where(StockBalance.depot_id == depot.id, StockBalance.item_id == item.id)) or 0)
    rates = forecasting.rates_of(session, [item.id]).get(item.id, [])
    # No rates, no forecast: the drivers are only counted for an item that uses them.
    counts = (forecasting.DriverCounts(session, today).own(significant_prefix(depot.area_code))
              if rates else drivers.Drivers())
    need = forecasting.forecast(item, rates, counts)
    daily = used / window_days
    rate = max(daily, need.daily_need)
    return Cover(depot.id, depot.name, depot.area_code, item.id, item.name, on_hand, daily,
                 on_hand / rate if rate > 0 else None, item.lead_time_days + item.safety_days,
                 need, item.unit)
