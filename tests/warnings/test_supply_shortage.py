"""A supply running short (supplies/cover.py) raises one "supply shortage" alert a day in the
depot's area queue when the warning rules run; re-running raises nothing new."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from passtrace.core.clock import local_today
from passtrace.supplies import service as supplies
from passtrace.warnings import service, shortages
from passtrace.warnings.models import Alert
from tests.supplies.helpers import depot, item, stock

# clock_stopped (tests/conftest.py): the test works out "today" and the app works it out
# again; one held moment keeps them on the same day at midnight in China (16:00 UTC).
pytestmark = pytest.mark.usefixtures("clock_stopped")


def test_a_depot_running_short_raises_one_alert_a_day(session, rt):
    d, masks, gloves = depot(session, area_code="520102"), item(session), item(session, "gloves")
    stock(session, d, masks, "M", date(2099, 1, 1), 100)
    stock(session, d, gloves, "G", date(2099, 1, 1), 100)
    # Masks: 70 issued in the 14-day window (5 a day), 30 left = 6 days < 7 + 3 days.
    supplies.issue(session=session, actor=None, depot_id=d.id, item_id=masks.id,
                   quantity=70, consumer="卡口")
    # Gloves: 14 issued (1 a day), 86 left: plenty.
    supplies.issue(session=session, actor=None, depot_id=d.id, item_id=gloves.id,
                   quantity=14, consumer="卡口")
    session.flush()
    stats = service.run(session=session, settings=rt.settings)
    assert stats.new.get("supply_shortage") == 1
    [alert] = session.scalars(select(Alert).where(Alert.rule_code == "supply_shortage")).all()
    assert alert.area_code == "520102" and alert.queue_area == "520102"
    assert alert.subject_key == shortages.subject_key(d.id, masks.id)
    assert alert.evidence["depot_id"] == str(d.id) and alert.evidence["item_id"] == str(masks.id)
    assert alert.evidence["days_of_cover"] == 6 and alert.evidence["threshold_days"] == 10
    assert alert.day == local_today()
    again = service.run(session=session, settings=rt.settings)
    assert again.new.get("supply_shortage", 0) == 0
