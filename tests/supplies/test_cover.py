"""Days of cover from the moving average of issues, and the shortage signal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from passtrace.core.clock import utcnow
from passtrace.supplies import cover, service
from tests.supplies.helpers import depot, item, stock


def _issue(session, d, i, n):  # type: ignore[no-untyped-def]
    return service.issue(session=session, actor=None, depot_id=d.id, item_id=i.id,
                         quantity=n, consumer="卡口")


def test_cover_below_lead_time_and_safety_days_is_a_shortage(session):
    d, masks, gloves = depot(session, area_code="520102"), item(session), item(session, "gloves")
    stock(session, d, masks, "M", date(2027, 1, 1), 100)
    stock(session, d, gloves, "G", date(2027, 1, 1), 100)
    _issue(session, d, masks, 70)   # 5 a day over 14 days: 30 left last 6 days
    _issue(session, d, gloves, 14)  # 1 a day: 86 left last 86 days
    # A big issue three weeks ago is outside the window and does not count.
    for e in _issue(session, d, gloves, 10):
        e.created_at = utcnow() - timedelta(days=21)
    session.flush()
    by_item = {c.item_id: c for c in cover.covers(session, area_code="520102")}
    assert by_item[masks.id].daily_use == 5 and by_item[masks.id].days_of_cover == 6
    assert by_item[gloves.id].days_of_cover == pytest.approx(76)
    short = cover.shortages(session, area_code="520102")
    assert [(c.depot_id, c.item_id, c.threshold_days) for c in short] == [(d.id, masks.id, 10)]
    assert cover.shortages(session, area_code="520103") == []


def test_an_item_not_used_lately_is_never_short(session):
    d, i = depot(session), item(session)
    stock(session, d, i, "A", date(2027, 1, 1), 1)
    [c] = [c for c in cover.covers(session) if c.item_id == i.id]
    assert c.days_of_cover is None and not c.short
