"""The "supply shortage" rule: a depot x item whose days of cover fell below its lead time
plus safety days (supplies/cover.py) becomes one alert a day in that depot's area queue.
The cover divides by the larger of consumption and the epidemic forecast, so an area
gaining 200 quarantined contacts raises the alert before consumption catches up; the
evidence keeps the forecast's terms (driver, count, rate) so the alert shows why.

The supplies domain computes the cover; warnings only turns each shortage into an alert,
so supplies never imports warnings (the layers contract allows one direction only).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from passtrace.supplies import cover
from passtrace.warnings import service

# The subject of a shortage is the pair (depot, item); alerts keep a subject key of at most
# 64 characters, so the pair is named by one name-based UUID (the ids are in the evidence).
_PAIR = uuid.UUID("5b0e3c1a-7f2d-4c8e-9a61-2d4f8b7e0c13")


def subject_key(depot_id: uuid.UUID, item_id: uuid.UUID) -> str:
    """The alert subject of one depot x item."""
    return str(uuid.uuid5(_PAIR, f"{depot_id}:{item_id}"))


def raise_for_day(*, session: Session, today: date) -> int:
    """One alert per short depot x item for `today` (the dedup key makes re-runs free)."""
    raised = 0
    for c in cover.shortages(session, today=today):
        raised += service.raise_alert(
            session=session, rule_code="supply_shortage", subject_kind="supply",
            subject_key=subject_key(c.depot_id, c.item_id), area_code=c.area_code, day=today,
            masked=f"{c.depot_name} · {c.item_name}",
            evidence={"depot_id": str(c.depot_id), "depot": c.depot_name,
                      "item_id": str(c.item_id), "item": c.item_name, "on_hand": c.on_hand,
                      "daily_use": round(c.daily_use, 2),
                      "days_of_cover": (round(c.days_of_cover, 1)
                                        if c.days_of_cover is not None else None),
                      "threshold_days": c.threshold_days, "basis": c.basis,
                      "forecast_need": round(c.forecast_need, 2),
                      "forecast": [{"driver": t.driver, "count": t.count, "rate": t.rate,
                                    "periods_per_day": t.periods_per_day}
                                   for t in (c.forecast.terms if c.forecast else ())]})
    return raised
