"""Who may see and run a compound: one place decides.

- a community manager (scope "community" = the compound's code) runs their compound
  and sees nothing of any other;
- an official (area-scoped) or an administrator sees and runs every compound in
  their area;
- residents see their own household (by their person record), nothing else.
Everything else answers "not found", so codes leak nothing.
"""

from __future__ import annotations

from passtrace.communities.compounds.models import Community
from passtrace.core.security import Principal


def covers(principal: Principal, permission: str, c: Community) -> bool:
    """Tell whether the permission is held for this compound, by scope or by area."""
    return (principal.covers(permission, "community", c.code)
            or principal.covers_area(permission, c.code))


def can_view(principal: Principal, c: Community) -> bool:
    """The compound's managers and officials over its area."""
    return covers(principal, "community.view", c)


def can_manage(principal: Principal, c: Community) -> bool:
    """Change households, residents and rules."""
    return covers(principal, "community.manage", c)


def can_review_visits(principal: Principal, c: Community) -> bool:
    """Approve or refuse visitor invitations."""
    return covers(principal, "visit.review", c)

