"""What every supplies page shares: who may open it, the depots in scope, labels.

Scope answers are deliberate: a user with no supplies role at all is refused (403);
a supplies user asking for a depot outside their scope gets "not found" (404), so
depot ids of other districts cannot be probed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from passtrace.core.errors import Forbidden, NotFound
from passtrace.core.i18n import N_, lazy_gettext
from passtrace.core.security import Principal
from passtrace.supplies import authz
from passtrace.supplies.models import Depot, SupplyItem, SupplyLot
from passtrace.supplies.requests import REQUESTER_KINDS

MAX_DEPOTS = 500

KIND_LABELS = {
    "city_warehouse": lazy_gettext("City warehouse"),
    "district_warehouse": lazy_gettext("District warehouse"),
    "hospital": lazy_gettext("Hospital"),
    "community": lazy_gettext("Community"),
    "checkpoint": lazy_gettext("Checkpoint depot"),
    "enterprise": lazy_gettext("Enterprise"),
}
STATE_LABELS = {
    "open": lazy_gettext("Waiting for a decision"),
    "approved": lazy_gettext("Approved"),
    "partly_approved": lazy_gettext("Partly approved"),
    "rejected": lazy_gettext("Rejected"),
}
TRANSFER_LABELS = {
    "in_transit": lazy_gettext("On the way"),
    "received": lazy_gettext("Received"),
}
WAREHOUSE_KINDS = ("city_warehouse", "district_warehouse")


def require_supplies_user(principal: Principal) -> None:
    """Refuse users with no supplies role (403)."""
    if not (principal.has(authz.MANAGE) or principal.has(authz.REQUEST)):
        raise Forbidden("Only supplies staff may open the supplies pages.")


def is_area_officer(principal: Principal) -> bool:
    """An officer over an area (or everywhere): decides requests, allocates, oversees."""
    return principal.area_scopes(authz.MANAGE) != []


def require_officer(principal: Principal) -> None:
    """Refuse anyone but an officer over an area (403)."""
    if not is_area_officer(principal):
        raise Forbidden("Only supplies officers over an area may open this page.")


def depot_for(session: Session, principal: Principal, depot_id: uuid.UUID, *,
              manage: bool = False, missing: str = N_("No such depot.")) -> Depot:
    """The depot if the user may work there: move stock (`manage`) or request for it.

    `missing`: what a page reached through a request or transfer says when the user may
    not work at its depot: the same words as for an id nobody holds, so the answer does
    not tell that another area's request or transfer exists."""
    require_supplies_user(principal)
    depot = session.get(Depot, depot_id)
    allowed = depot is not None and (
        authz.can_manage(principal, depot)
        or (not manage and authz.can_request(principal, depot)))
    if depot is None or not allowed:
        raise NotFound(missing)
    return depot


def depots_in_scope(session: Session, principal: Principal) -> list[Depot]:
    """The depots this user works at or oversees, by name."""
    stmt = select(Depot)
    prefixes = principal.area_scopes(authz.REQUEST)
    if prefixes is not None:
        own = [b.scope_value for b in principal.bindings if b.scope_type == "depot"]
        stmt = stmt.where(or_(Depot.code.in_(own),
                              *[Depot.area_code.startswith(p) for p in prefixes]))
    return list(session.scalars(stmt.order_by(Depot.name, Depot.id).limit(MAX_DEPOTS)))


def may_request(depot: Depot) -> bool:
    """Checkpoints, communities, hospitals and enterprises ask; warehouses allocate."""
    return depot.kind in REQUESTER_KINDS


def item_choices(session: Session) -> list[SupplyItem]:
    return list(session.scalars(select(SupplyItem).order_by(SupplyItem.name).limit(500)))


def lots_of(session: Session, item_ids: list[uuid.UUID]) -> list[SupplyLot]:
    """Known lots of these items, latest expiry first (for picking a delivery's lot)."""
    if not item_ids:
        return []
    return list(session.scalars(select(SupplyLot).where(SupplyLot.item_id.in_(item_ids))
                                .order_by(SupplyLot.expires_on.desc()).limit(500)))


def parse_id(value: str | None) -> uuid.UUID | None:
    """A uuid from a query string typed or edited by hand: anything else is "none"."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
