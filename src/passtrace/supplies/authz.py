"""Who may move stock where: supplies officers, scoped to a depot or to an area."""

from __future__ import annotations

from typing import Protocol

from passtrace.core.errors import Forbidden
from passtrace.core.security import Principal
from passtrace.supplies.models import Depot

MANAGE = "supplies.manage"


class Placed(Protocol):
    """What the scope checks read of a depot (a Depot, or the lean issue's plain row)."""

    @property
    def code(self) -> str: ...

    @property
    def area_code(self) -> str: ...


def can_manage(actor: Principal, depot: Placed) -> bool:
    """An officer bound to the depot itself, or to an area containing it (or globally)."""
    return (actor.covers(MANAGE, "depot", depot.code)
            or actor.covers_area(MANAGE, depot.area_code))


def require_manage(actor: Principal | None, depot: Placed) -> None:
    """Refuse a movement at a depot outside the actor's scope (None: the system itself)."""
    if actor is not None and not can_manage(actor, depot):
        raise Forbidden("You may not move stock at this depot.")


REQUEST = "supplies.request"


def can_request(actor: Principal, depot: Depot) -> bool:
    """Staff bound to the requesting depot, or an officer over its area."""
    return (actor.covers(REQUEST, "depot", depot.code)
            or actor.covers_area(REQUEST, depot.area_code))


def require_manage_area(actor: Principal | None, depot: Depot) -> None:
    """Deciding requests is for officers over the depot's area, not the depot's own staff."""
    if actor is not None and not actor.covers_area(MANAGE, depot.area_code):
        raise Forbidden("You may not decide requests for this depot.")
