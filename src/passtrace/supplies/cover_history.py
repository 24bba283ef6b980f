"""Days of cover of one depot x item, day by day: the curve on the officer's chart.

Each past day's cover is what was on hand at the end of that day (today's stock minus
every movement since) over the moving average of issues in the window ending that day,
the same rule as cover.py applies to today.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.core.clock import LOCAL_TZ, local_today
from passtrace.supplies.cover import WINDOW_DAYS
from passtrace.supplies.models import LedgerEntry, StockBalance

CURVE_DAYS = 30


@dataclass(frozen=True)
class Day:
    """One point of the curve."""

    day: date
    on_hand: int
    daily_use: float
    days_of_cover: float | None  # None: nothing issued in the window


def curve(session: Session, *, depot_id: uuid.UUID, item_id: uuid.UUID,
          days: int = CURVE_DAYS, today: date | None = None,
          window_days: int = WINDOW_DAYS) -> list[Day]:
    """The last `days` days of cover, oldest first."""
    today = today or local_today()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first - timedelta(days=window_days), time(), LOCAL_TZ)
    on_hand_now = int(session.scalar(
        select(func.coalesce(func.sum(StockBalance.quantity), 0))
        .where(StockBalance.depot_id == depot_id, StockBalance.item_id == item_id)) or 0)
    moves = [(created.astimezone(LOCAL_TZ).date(), kind, q) for created, kind, q in
             session.execute(select(LedgerEntry.created_at, LedgerEntry.kind,
                                    LedgerEntry.quantity)
                             .where(LedgerEntry.depot_id == depot_id,
                                    LedgerEntry.item_id == item_id,
                                    LedgerEntry.created_at >= since))]
    points = []
    for n in range(days):
        day = first + timedelta(days=n)
        later = sum(q for d, _, q in moves if d > day)
        issued = -sum(q for d, kind, q in moves
                      if kind == "issue" and day - timedelta(days=window_days) < d <= day)
        stock = on_hand_now - later
        use = issued / window_days
        points.append(Day(day, stock, use, stock / use if use > 0 else None))
    return points
