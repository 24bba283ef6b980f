"""Who may see and work an alert: officials whose jurisdiction covers its queue's area."""

from __future__ import annotations

from passtrace.core.security import Principal
from passtrace.warnings.models import Alert


def can_view(principal: Principal, alert: Alert) -> bool:
    """alert.view over the area the alert is queued in (or globally)."""
    return principal.covers_area("alert.view", alert.queue_area)


def can_manage(principal: Principal, alert: Alert) -> bool:
    """alert.manage over the area the alert is queued in (or globally)."""
    return principal.covers_area("alert.manage", alert.queue_area)


def queue_scopes(principal: Principal) -> list[str] | None:
    """The area prefixes whose queues the principal sees; None means everywhere."""
    return principal.area_scopes("alert.view")
