"""Who may see and change a case: officials whose jurisdiction covers the case's area."""

from __future__ import annotations

from passtrace.cases.models import Case
from passtrace.core.security import Principal


def can_view(principal: Principal, case: Case) -> bool:
    """case.view over the case's area (or globally)."""
    return principal.covers_area("case.view", case.area_code)


def can_manage(principal: Principal, case: Case) -> bool:
    """case.manage over the case's area (or globally)."""
    return principal.covers_area("case.manage", case.area_code)


def can_open_in(principal: Principal, area_code: str) -> bool:
    """case.manage over the area a new case (or a case moved there) is to be in."""
    return principal.covers_area("case.manage", area_code)


def area_scopes(principal: Principal) -> list[str] | None:
    """The area prefixes whose cases the principal may list; None means everywhere."""
    return principal.area_scopes("case.view")
