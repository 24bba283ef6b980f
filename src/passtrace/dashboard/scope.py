"""Whose dashboard: the viewer's areas, or one area inside them (a district to drill into).

Officials see the dashboard over the areas their `alert.view` binding covers; an area
outside those answers 404 like any resource the caller may not see, and a role without
`alert.view` (a resident) 403.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from passtrace.areas import service as area_service
from passtrace.areas.models import Area
from passtrace.core.areacodes import significant_prefix
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.security import Principal

PERMISSION = "alert.view"
AREA_LENGTHS = (6, 9, 12)


@dataclass(frozen=True)
class Scope:
    """Area prefixes the figures cover (None: everywhere) and the area asked for."""

    prefixes: tuple[str, ...] | None
    area: Area | None

    def where(self, column: InstrumentedAttribute[str] | ColumnElement[str]
              ) -> ColumnElement[bool] | None:
        """A filter keeping rows whose area code lies in the scope (None: no filter)."""
        if self.prefixes is None:
            return None
        if not self.prefixes:
            return false()
        return or_(*(column.startswith(p, autoescape=True) for p in self.prefixes))

    @property
    def key(self) -> str:
        """A stable text naming the scope (for links and caching)."""
        return ",".join(self.prefixes) if self.prefixes is not None else "*"


def normalize_area(raw: str) -> str:
    """The code as typed, full-width digits and spaces forgiven; 422 if not a code."""
    code = unicodedata.normalize("NFKC", raw).strip()
    if not (code.isascii() and code.isdigit() and len(code) in AREA_LENGTHS):
        msg = N_("Enter a division code (6, 9 or 12 digits).")
        raise ValidationFailed(msg, fields={"area": msg})
    return code


def resolve(*, session: Session, actor: Principal, area: str | None) -> Scope:
    """The scope of the actor's dashboard, narrowed to `area` when one is asked for."""
    if not actor.has(PERMISSION):
        raise Forbidden("Your role does not allow this.")
    mine = actor.area_scopes(PERMISSION)
    if area is None or not area.strip():
        if mine is not None and len(mine) == 1:
            # One bound area: the dashboard is that area's, named as such.
            found = session.get(Area, _full_code(mine[0]))
            return Scope(prefixes=tuple(mine), area=found)
        return Scope(prefixes=tuple(sorted(set(mine))) if mine is not None else None,
                     area=None)
    code = normalize_area(area)
    if not actor.covers_area(PERMISSION, code):
        raise NotFound("No such area.")
    found = area_service.get(session=session, code=code)
    if found is None:
        raise NotFound("No such area.")
    return Scope(prefixes=(significant_prefix(code),), area=found)


def _full_code(prefix: str) -> str:
    """520102 stays, 5201 -> 520100, 52 -> 520000 (the code a prefix came from)."""
    return prefix.ljust(6, "0") if len(prefix) < 6 else prefix


def drill_down(*, session: Session, scope: Scope) -> list[Area]:
    """The areas one level below the scope, to open their own dashboards."""
    if scope.area is not None:
        return area_service.children(session=session, parent_code=scope.area.code)
    if scope.prefixes is None:
        return area_service.children(session=session, parent_code=None)
    codes = [_full_code(p) for p in scope.prefixes]
    return [a for a in (session.get(Area, c) for c in codes) if a is not None]
