"""Who may move stock where: supplies officers, scoped to a depot or to an area."""

from __future__ import annotations

from passtrace.core.errors import Forbidden
from passtrace.core.security import Principal
from passtrace.supplies.models import Depot

MANAGE = "supplies.manage"


def can_manage(actor: Principal, depot: Depot) -> bool:
    """An officer bound to the depot itself, or to an area containing it (or globally)."""
    return (actor.covers(MANAGE, "depot", depot.code)
            or actor.covers_area(MANAGE, depot.area_code))


def require_manage(actor: Principal | None, depot: Depot) -> None:
    """Refuse a movement at a depot outside the actor's scope (None: the system itself)."""
    if actor is not None and not can_manage(actor, depot):
        raise Forbidden("You may not move stock at this depot.")
