"""Which audit entries a supervisor may review: officials, those of actors in their area.

An actor is in an area when one of their role bindings is: an area or compound scope
inside it (both are division codes), or a site or enterprise located inside it.
Admins (a global binding) see every entry, including the system's own.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, false, or_, select

from passtrace.accounts.models import RoleBinding
from passtrace.audit.models import AuditEntry
from passtrace.core.areacodes import contains, significant_prefix
from passtrace.core.errors import Forbidden
from passtrace.core.security import Principal
from passtrace.enterprises.models import Enterprise
from passtrace.sites.models import Site

PERMISSION = "audit.view"


def prefixes_for(principal: Principal, area: str | None) -> list[str] | None:
    """The area prefixes to review (None: everywhere); refuse an area outside the scope."""
    if not principal.has(PERMISSION):
        raise Forbidden("Your role does not allow this.")
    scopes = principal.area_scopes(PERMISSION)
    if area:
        if scopes is not None and not any(contains(s, area) for s in scopes):
            raise Forbidden("This area is outside your jurisdiction.")
        return [significant_prefix(area)]
    return scopes


def actors_in(prefixes: list[str]) -> ColumnElement[bool]:
    """Entries whose actor holds a role somewhere inside one of the areas."""
    if not prefixes:
        return false()
    return AuditEntry.actor_user_id.in_(users_in(prefixes))


def users_in(prefixes: list[str]) -> Select[uuid.UUID]:
    """The users holding a role somewhere inside one of the areas (a select of ids)."""
    inside = [RoleBinding.scope_value.startswith(p) for p in prefixes]
    sites = select(Site.code).where(or_(*[Site.area_code.startswith(p) for p in prefixes]))
    firms = select(Enterprise.credit_code).where(
        or_(*[Enterprise.area_code.startswith(p) for p in prefixes]))
    users = select(RoleBinding.user_id).where(or_(
        (RoleBinding.scope_type.in_(("area", "community"))) & or_(*inside),
        (RoleBinding.scope_type == "site") & RoleBinding.scope_value.in_(sites),
        (RoleBinding.scope_type == "enterprise") & RoleBinding.scope_value.in_(firms)))
    return users
