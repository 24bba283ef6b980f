"""Who may do what at a site: one place decides."""

from __future__ import annotations

from passtrace.core.security import Principal
from passtrace.sites.models import Site


def is_staff(principal: Principal, site: Site, permission: str = "registration.create") -> bool:
    """Staff bound to this site (or a global binding) holding the permission."""
    return is_staff_at(principal, site.code, permission)


def is_staff_at(principal: Principal, site_code: str,
                permission: str = "registration.create") -> bool:
    """is_staff, for a site known only by its code."""
    return principal.covers(permission, "site", site_code)


def can_view(principal: Principal, site: Site) -> bool:
    """Staff of the site, or an official whose area covers it."""
    return (is_staff(principal, site, "site.view")
            or principal.covers_area("site.view", site.area_code))


def can_manage(principal: Principal, site: Site) -> bool:
    """An official whose jurisdiction covers the site's area."""
    return principal.covers_area("site.manage", site.area_code)


def can_see_stats(principal: Principal, site: Site) -> bool:
    """Staff of the site or officials over its area."""
    return (is_staff(principal, site, "site.stats")
            or principal.covers_area("site.stats", site.area_code))
