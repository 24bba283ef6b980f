"""The persistent navigation: one list of destinations per principal, from its permissions.

Built here once and drawn by templates/_nav.html on every page (a bottom tab bar on
phones, a menu bar on desktops), so no page has to remember to offer a way back.
"""

from __future__ import annotations

from dataclasses import dataclass

from passtrace.core.i18n import N_
from passtrace.core.security import ROLE_PERMISSIONS, Principal


@dataclass(frozen=True)
class NavItem:
    """One destination: where it goes, its label (a msgid) and a stable id for tests."""

    href: str
    label: str
    key: str
    # Other path prefixes that belong to this destination (it stays marked there).
    also: tuple[str, ...] = ()


# In display order. A destination shows when one of the principal's roles names the
# permission outright: the admin's wildcard would otherwise fill a phone's bar with
# field-staff screens (scan, my passes) an administrator does not work in.
_DESTINATIONS: tuple[tuple[str, NavItem], ...] = (
    ("pass.apply", NavItem("/passes/mine", N_("My passes"), "passes")),
    ("pass.apply", NavItem("/health/me", N_("Health code"), "health")),
    ("pass.verify", NavItem("/checkpoint", N_("Scan"), "checkpoint")),
    ("pass.review", NavItem("/passes/review", N_("Approvals"), "review")),
    ("site.view", NavItem("/sites", N_("Sites"), "sites")),
    ("community.view", NavItem("/communities", N_("Communities"), "communities")),
    ("enterprise.view", NavItem("/enterprises", N_("Enterprises"), "enterprises")),
    ("report.supervise", NavItem("/reports/dashboard", N_("Reports"), "reports")),
    ("audit.view", NavItem("/audit", N_("Audit"), "audit")),
    # Early warning opens on the command dashboard, whose numbers lead into the alert
    # queue and the risk areas; one destination, so a phone's bar keeps eight at most.
    ("alert.view", NavItem("/dashboard", N_("Warnings"), "warnings", also=("/warnings",))),
)
_ADMIN_EXTRA = ("pass.review", "site.view", "community.view", "enterprise.view", "audit.view")


def _named(principal: Principal, permission: str) -> bool:
    roles = principal.roles
    if "admin" in roles and permission in _ADMIN_EXTRA:
        return True
    return any(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in roles)


def _supplies(principal: Principal) -> list[NavItem]:
    """Supplies officers over an area oversee (stock, requests, allocation); staff bound to
    one depot work there (receive, issue, count, request). A binding decides which."""
    scopes = {b.scope_type for b in principal.bindings
              if "supplies.manage" in ROLE_PERMISSIONS.get(b.role, frozenset())}
    found = []
    if scopes & {"area", "global"}:
        found.append(NavItem("/supplies", N_("Supplies"), "supplies"))
    elif "depot" in scopes:
        found.append(NavItem("/supplies/depots", N_("My depot"), "depot"))
    return found


def items_for(principal: Principal | None) -> list[NavItem]:
    """List the destinations this principal may use, home first and notices last."""
    if principal is None:
        return []
    found = [NavItem("/", N_("Home"), "home")]
    found += [item for permission, item in _DESTINATIONS if _named(principal, permission)]
    found += _supplies(principal)
    if "admin" in principal.roles:
        found.append(NavItem("/admin/users", N_("Accounts"), "accounts"))
    found.append(NavItem("/notices", N_("Notices"), "notices"))
    return found


def current(items: list[NavItem], path: str) -> str | None:
    """Return the key of the destination the path belongs to (the longest prefix)."""
    best: NavItem | None = None
    for item in items:
        inside = any(path == href or (href != "/" and path.startswith(href + "/"))
                     for href in (item.href, *item.also))
        if inside and (best is None or len(item.href) > len(best.href)):
            best = item
    return best.key if best else None
