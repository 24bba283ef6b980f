"""The demo's supplies come with forecast rates, so the forecast has something to show."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select

from passtrace import demo
from passtrace.audit.models import AuditEntry
from passtrace.core import migrate
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.supplies import cover, forecast
from passtrace.supplies.models import Depot, ForecastRate, SupplyItem
from tests.conftest import test_settings as fast_settings


def test_the_demo_seeds_forecast_rates_that_the_checkpoint_forecast_uses() -> None:
    path = Path(tempfile.mkdtemp(prefix="passtrace-supdemo-")) / "demo.db"
    rt = Runtime.build(fast_settings(f"sqlite:///{path}"))
    try:
        migrate.upgrade(rt.engine)
        for session in session_scope(rt.sessions):
            demo.seed(session=session, rt=rt)
        with rt.sessions() as session:
            masks = session.scalars(select(SupplyItem).where(
                SupplyItem.name == "医用外科口罩")).one()
            drivers = {r.driver for r in forecast.rates_of(session, [masks.id])[masks.id]}
            assert {"staff_on_duty", "quarantined"} <= drivers
            # Set by the city's officer, audited like any rate change.
            assert session.scalar(select(ForecastRate.id).limit(1)) is not None
            assert session.scalars(select(AuditEntry).where(
                AuditEntry.action == "supplies.rate.set")).first() is not None
            checkpoint = session.scalars(select(Depot).where(
                Depot.code == "DEP-CP-NM-01")).one()
            found = cover.one(session, depot=checkpoint, item=masks)
            assert found.forecast is not None  # None would mean "the item has no rates"
            assert {t.driver for t in found.forecast.terms} >= {"staff_on_duty"}
    finally:
        rt.engine.dispose()
