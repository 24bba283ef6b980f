"""The epidemic drivers of the supply forecast: how many people in a depot's area need
supplies today (staff on duty at checkpoints, people in quarantine, contacts awaiting a
test, cases in isolation).

Those numbers belong to other domains (sites, tracing, cases). supplies does not import
them: it offers this hook, and `passtrace.wiring.wire()` registers the one source that
counts them (warnings/supply_drivers.py, in a domain that already reads all three). A
forecast asked for without a source raises DriversNotWired rather than forecasting zero:
a process that forgot to wire would otherwise never see an epidemic-driven shortage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Drivers:
    """The counts for one area on one day (an area-code prefix, "" for everywhere)."""

    staff_on_duty: int = 0
    quarantined: int = 0
    contacts_to_test: int = 0
    cases_in_isolation: int = 0

    def get(self, driver: str) -> int:
        """The count of one driver by its name (one of models.DRIVERS)."""
        return int(getattr(self, driver))


# session, the significant prefix of the area's code, the local day -> the counts.
DriverSource = Callable[[Session, str, date], Drivers]


class DriversNotWired(RuntimeError):
    """No driver source registered: the entry point did not call wiring.wire()."""


_source: DriverSource | None = None


def register_source(source: DriverSource) -> None:
    """Set the function that counts the drivers (wiring.wire(); idempotent)."""
    global _source
    _source = source


def count(session: Session, area_prefix: str, day: date) -> Drivers:
    """The drivers in an area (by its significant code prefix) on a local day."""
    if _source is None:
        raise DriversNotWired("supplies.drivers has no source: call passtrace.wiring.wire()")
    return _source(session, area_prefix, day)
