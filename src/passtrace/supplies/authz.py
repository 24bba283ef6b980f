"""Who may move stock where: supplies officers, scoped to a depot or to an area.

Refusals follow the persona rule (docs/supplies.md, "Who is refused how"): someone with
no supplies role at all (a resident) gets 403 whatever id they send; supplies staff or
an officer who cannot see a depot at all (another area, another depot) gets 404, the
same as an id that does not exist, so a 403 never confirms that a depot or request of
another area exists; someone who sees the depot but lacks this power gets 403.
"""

from __future__ import annotations

from typing import NoReturn, Protocol

from passtrace.core.errors import Forbidden, NotFound
from passtrace.core.i18n import N_
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


def require_manage(actor: Principal | None, depot: Placed, *,
                   missing: str = N_("No such depot.")) -> None:
    """Refuse a movement at a depot outside the actor's scope (None: the system itself);
    `missing` is the 404's message when the depot is out of their sight."""
    if actor is not None and not can_manage(actor, depot):
        refuse(actor, depot, N_("You may not move stock at this depot."), missing=missing)


REQUEST = "supplies.request"


def is_supplies_user(actor: Principal) -> bool:
    """Holds a supplies role somewhere (an officer, or staff of a depot)."""
    return actor.has(MANAGE) or actor.has(REQUEST)


def require_supplies_user(actor: Principal) -> None:
    """403 for anyone with no supplies role, before any id is looked up (residents)."""
    if not is_supplies_user(actor):
        raise Forbidden("Only supplies staff may do this.")


def sees(actor: Principal, depot: Placed) -> bool:
    """The depot is in the actor's scope at all: they manage or request for it."""
    return can_manage(actor, depot) or can_request(actor, depot)


def refuse(actor: Principal, depot: Placed, message: str, *,
           missing: str = N_("No such depot.")) -> NoReturn:
    """Refuse by the persona rule: 404 (`missing`) for supplies staff who cannot see the
    depot at all, as if it did not exist; 403 (`message`) otherwise."""
    if is_supplies_user(actor) and not sees(actor, depot):
        raise NotFound(missing)
    raise Forbidden(message)


def can_request(actor: Principal, depot: Placed) -> bool:
    """Staff bound to the requesting depot, or an officer over its area."""
    return (actor.covers(REQUEST, "depot", depot.code)
            or actor.covers_area(REQUEST, depot.area_code))


def require_manage_area(actor: Principal | None, depot: Depot) -> None:
    """Deciding requests is for officers over the depot's area, not the depot's own staff
    (403); an officer of another area does not learn the request exists (404)."""
    if actor is not None and not actor.covers_area(MANAGE, depot.area_code):
        refuse(actor, depot, N_("You may not decide requests for this depot."),
               missing=N_("No such supplies request."))
