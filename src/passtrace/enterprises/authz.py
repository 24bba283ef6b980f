"""Who may see and change an enterprise, its staff and its resumption: one place decides.

- an official (area-scoped) or an administrator sees every enterprise in their area;
- an enterprise admin (scope "enterprise" = credit code) sees and runs their own enterprise;
- a department head (scope "department" = department id) sees their enterprise's name
  and their own department's staff, nothing else.
Everything else answers "not found" so ids and credit codes leak nothing.
"""

from __future__ import annotations

import uuid

from passtrace.core.security import Principal
from passtrace.enterprises.models import Department, Employee, Enterprise


def is_enterprise_admin(principal: Principal, e: Enterprise) -> bool:
    """Tell whether the principal runs this enterprise (or is a global administrator)."""
    return principal.covers("enterprise.manage", "enterprise", e.credit_code)


def is_area_official(principal: Principal, permission: str, e: Enterprise) -> bool:
    """Tell whether an area-scoped (or global) permission covers the enterprise's area."""
    return principal.covers_area(permission, e.area_code)


def headed_departments(principal: Principal) -> set[uuid.UUID]:
    """Return the department ids the principal heads."""
    found: set[uuid.UUID] = set()
    for b in principal.bindings:
        if b.role == "department_head" and b.scope_type == "department":
            try:
                found.add(uuid.UUID(b.scope_value))
            except ValueError:
                continue
    return found


def can_view(principal: Principal, e: Enterprise,
             department_ids: set[uuid.UUID] | None = None) -> bool:
    """Officials in the area, the enterprise's admins, or a head of one of its departments."""
    if is_enterprise_admin(principal, e) or is_area_official(principal, "enterprise.view", e):
        return True
    return bool(department_ids and department_ids & headed_departments(principal))


def sees_all_staff(principal: Principal, e: Enterprise) -> bool:
    """Admins of the enterprise and officials in its area see every department."""
    return is_enterprise_admin(principal, e) or is_area_official(principal, "enterprise.view", e)


def visible_department_ids(principal: Principal, e: Enterprise,
                           departments: list[Department]) -> set[uuid.UUID]:
    """Return the departments whose staff the principal may list."""
    if sees_all_staff(principal, e):
        return {d.id for d in departments}
    return {d.id for d in departments} & headed_departments(principal)


def can_view_employee(principal: Principal, e: Enterprise, emp: Employee) -> bool:
    """See one employee: whole-enterprise viewers, or the head of the employee's department."""
    return sees_all_staff(principal, e) or emp.department_id in headed_departments(principal)


def employs(principal: Principal, e: Enterprise, emp: Employee) -> bool:
    """The enterprise's admins and the head of the employee's department: the employer side,
    who read the name their own staff list gave (officials read it masked)."""
    return is_enterprise_admin(principal, e) or emp.department_id in headed_departments(principal)


def can_manage(principal: Principal, e: Enterprise) -> bool:
    """Change departments and staff, invite, apply for resumption, request passes."""
    return is_enterprise_admin(principal, e)


def can_review_resumption(principal: Principal, e: Enterprise) -> bool:
    """An official whose area covers the enterprise decides its resumption."""
    return is_area_official(principal, "resumption.review", e)


def can_reveal_staff(principal: Principal, e: Enterprise) -> bool:
    """Reveal an employee's data in clear (with a reason, audited)."""
    return (principal.covers("person.reveal", "enterprise", e.credit_code)
            or principal.covers_area("person.reveal", e.area_code))
