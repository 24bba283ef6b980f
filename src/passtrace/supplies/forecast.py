"""The epidemic-driven forecast: daily need = the sum over an item's rates of
rate x periods a day x driver, the drivers counted in the depot's area (drivers.py).

Consumption (the moving average of issues, cover.py) lags an outbreak: 200 contacts put
in quarantine today draw no masks from the ledger until someone issues them. The
forecast sees them at once, so days of cover divides the stock by the larger of the two
and a depot goes short before consumption catches up.

Rates are parameters supplies officers over every depot edit (audited with their before
and after): one rate counts at every depot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Conflict, Forbidden, ValidationFailed
from passtrace.core.i18n import N_, gettext
from passtrace.core.security import Principal
from passtrace.supplies import authz
from passtrace.supplies import drivers as driver_source
from passtrace.supplies.models import DRIVERS, Depot, ForecastRate, SupplyItem

MAX_RATE = 10_000.0
MAX_SHIFTS = 4

# How each term reads to an officer; %(unit)s is the item's unit (只, 盒).
TERM_TEXT = {
    "staff_on_duty": N_("%(n)s staff on duty × %(rate)s %(unit)s per shift × %(shifts)s "
                        "shifts"),
    "quarantined": N_("%(n)s people in quarantine × %(rate)s %(unit)s a day"),
    "contacts_to_test": N_("%(n)s contacts awaiting a test × %(rate)s %(unit)s each"),
    "cases_in_isolation": N_("%(n)s cases in isolation × %(rate)s %(unit)s a day"),
}


def _number(value: float) -> str:
    """2.0 -> "2", 0.5 -> "0.5": rates and needs as an officer writes them."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Term:
    """One rate applied to its driver's count."""

    driver: str
    count: int
    rate: float
    periods_per_day: int

    @property
    def need(self) -> float:
        return self.count * self.rate * self.periods_per_day

    def explain(self, unit: str) -> str:
        return gettext(TERM_TEXT[self.driver], n=self.count, rate=_number(self.rate),
                       unit=unit, shifts=self.periods_per_day)


@dataclass(frozen=True)
class Forecast:
    """An item's forecast daily need at one depot, with the terms that make it up."""

    item_id: uuid.UUID
    unit: str
    terms: tuple[Term, ...]

    @property
    def daily_need(self) -> float:
        return sum(t.need for t in self.terms)

    def explain(self) -> str:
        """"forecast: 120 staff on duty × 2 只 per shift × 3 shifts = 720 只 a day"."""
        if not self.terms:
            return gettext("No forecast rates are set for this item.")
        return gettext("forecast: %(terms)s = %(need)s %(unit)s a day",
                       terms=" + ".join(t.explain(self.unit) for t in self.terms),
                       need=_number(self.daily_need), unit=self.unit)


def rates_of(session: Session, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID,
                                                                      list[ForecastRate]]:
    """The rates of these items, in DRIVERS order (one query)."""
    ids = set(item_ids)
    out: dict[uuid.UUID, list[ForecastRate]] = {}
    if not ids:
        return out
    for r in session.scalars(select(ForecastRate).where(ForecastRate.item_id.in_(ids))):
        out.setdefault(r.item_id, []).append(r)
    for rows in out.values():
        rows.sort(key=lambda r: DRIVERS.index(r.driver))
    return out


def forecast(item: SupplyItem, rates: list[ForecastRate],
             counts: driver_source.Drivers) -> Forecast:
    """Apply an item's rates to the drivers counted in a depot's area (zero rates skipped)."""
    return Forecast(item.id, item.unit, tuple(
        Term(r.driver, counts.get(r.driver), r.rate, r.periods_per_day)
        for r in rates if r.rate > 0))


class DriverCounts:
    """The drivers per area prefix, counted once per call however many depots share it."""

    def __init__(self, session: Session, day: date) -> None:
        self._session, self._day = session, day
        self._seen: dict[str, driver_source.Drivers] = {}
        self._depot_prefixes: list[str] | None = None

    def __call__(self, area_prefix: str) -> driver_source.Drivers:
        if area_prefix not in self._seen:
            self._seen[area_prefix] = driver_source.count(self._session, area_prefix,
                                                          self._day)
        return self._seen[area_prefix]

    def own(self, area_prefix: str) -> driver_source.Drivers:
        """The drivers a depot with this area prefix serves itself: its area's, less
        those in the areas of depots nested inside it (a checkpoint's depot inside a
        district depot's area). Each person then drives one depot's forecast, the most
        local one, instead of being counted again at every depot above it."""
        total = self(area_prefix)
        inner = self._nested(area_prefix)
        if not inner:
            return total
        less = [self(p) for p in inner]
        return driver_source.Drivers(**{
            d: max(total.get(d) - sum(x.get(d) for x in less), 0) for d in DRIVERS})

    def _nested(self, area_prefix: str) -> list[str]:
        # The outermost depot areas strictly inside this one (one query per call for
        # every depot's area; areas inside those are already inside their counts).
        if self._depot_prefixes is None:
            self._depot_prefixes = sorted({significant_prefix(a) for a in self._session.scalars(
                select(Depot.area_code).distinct())})
        inside = [p for p in self._depot_prefixes
                  if p != area_prefix and p.startswith(area_prefix)]
        return [p for p in inside if not any(q != p and p.startswith(q) for q in inside)]


def covers_every_depot(session: Session, actor: Principal) -> bool:
    """Whether the actor manages supplies over every depot's area (or everywhere).

    A rate is one number per item and driver for the whole deployment, so it moves the
    forecast at every depot: a district officer changing it would change the cover of
    depots outside the district. Officers bound to a depot, not an area, never cover all.
    """
    prefixes = actor.area_scopes(authz.MANAGE)
    if prefixes is None:
        return True
    if not prefixes:
        return False
    outside = select(Depot.id).where(~or_(*(Depot.area_code.startswith(p)
                                            for p in prefixes))).limit(1)
    return session.scalar(outside) is None


def set_rate(*, session: Session, actor: Principal | None, item: SupplyItem, driver: str,
             rate: float, periods_per_day: int = 1) -> ForecastRate:
    """Set how much of the item one unit of the driver uses; audited with before and after.
    Only an officer over every depot may (covers_every_depot).

    periods_per_day is the number of shifts for staff on duty (the rate is per shift);
    the other drivers are counted per day (or per contact), so theirs is 1.
    """
    if actor is not None and not covers_every_depot(session, actor):
        raise Forbidden("A forecast rate counts at every depot: only an officer over all "
                        "of them may change it.")
    if driver not in DRIVERS:
        raise ValidationFailed("Unknown forecast driver.", fields={"driver": N_("Unknown.")})
    if not 0 <= rate <= MAX_RATE:
        raise ValidationFailed("The rate must be between 0 and %(max)s.", max=int(MAX_RATE),
                               fields={"rate": N_("Out of range.")})
    shifts_ok = (1 <= periods_per_day <= MAX_SHIFTS if driver == "staff_on_duty"
                 else periods_per_day == 1)
    if not shifts_ok:
        raise ValidationFailed("Shifts a day apply to staff on duty only (1 to %(max)s).",
                               max=MAX_SHIFTS, fields={"periods_per_day": N_("Out of range.")})
    rate_id = session.scalar(select(ForecastRate.id).where(ForecastRate.item_id == item.id,
                                                           ForecastRate.driver == driver))
    # Two officers editing one rate: the row lock makes the second read the first's value,
    # so the audit's "before" is what was really replaced. Two setting a rate that does not
    # exist yet both insert: the unique (item, driver) refuses the second (409).
    row = locked(session, ForecastRate, rate_id) if rate_id is not None else None
    before = [row.rate, row.periods_per_day] if row is not None else None
    stamp = {"rate": float(rate), "periods_per_day": periods_per_day, "updated_at": utcnow(),
             "updated_by": actor.user_id if actor else None}
    if row is None:
        row = ForecastRate(item_id=item.id, driver=driver, **stamp)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raise Conflict("Someone set this rate at the same moment: look at it again "
                           "and change it if needed.") from None
    else:
        for name, value in stamp.items():
            setattr(row, name, value)
        session.flush()
    audit_service.record(session=session, actor=actor, action="supplies.rate.set",
                         resource_type="supply_item", resource_id=item.id,
                         detail={"driver": driver, "before": before,
                                 "after": [row.rate, row.periods_per_day]})
    return row
