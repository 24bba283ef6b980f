"""Who may see which daily reports: one place decides."""

from __future__ import annotations

import uuid

from passtrace.core.security import Principal
from passtrace.enterprises.models import Employee, Enterprise


def is_filer(principal: Principal, employee: Employee) -> bool:
    """Tell whether the principal is the employee (their own login)."""
    return employee.user_id is not None and employee.user_id == principal.user_id


def supervises_enterprise(principal: Principal, enterprise: Enterprise,
                          permission: str = "report.supervise") -> bool:
    """The enterprise's admin (or a global admin)."""
    return principal.covers(permission, "enterprise", enterprise.credit_code)


def supervises_department(principal: Principal, enterprise: Enterprise,
                          department_id: uuid.UUID,
                          permission: str = "report.supervise") -> bool:
    """The enterprise's admin, or a head of this department."""
    return (supervises_enterprise(principal, enterprise, permission)
            or principal.covers(permission, "department", str(department_id)))


def department_scopes(principal: Principal, permission: str = "report.supervise") -> set[str]:
    """Return the department ids the principal heads."""
    return {b.scope_value for b in principal.bindings
            if b.scope_type == "department"
            and principal.covers(permission, "department", b.scope_value)}


def can_view(principal: Principal, employee: Employee, enterprise: Enterprise) -> bool:
    """The filer, their department head, or their enterprise's admin."""
    return is_filer(principal, employee) or supervises_department(
        principal, enterprise, employee.department_id)
