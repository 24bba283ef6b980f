"""Passwords, tokens, roles, permissions and scopes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from passtrace.core.areacodes import contains, significant_prefix

ROLES = (
    "admin",
    "official",
    "checkpoint_staff",
    "community_manager",
    "enterprise_admin",
    "department_head",
    "supplies_officer",
    "public",
)
SCOPE_TYPES = ("global", "area", "site", "community", "enterprise", "department", "depot")

# What each role may do; where it may do it comes from the binding's scope.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"*"}),
    "official": frozenset(
        {"pass.review", "pass.revoke", "pass.view_scope", "person.reveal", "audit.view",
         "site.manage", "site.view", "site.stats", "registration.view",
         "enterprise.register", "enterprise.view", "resumption.review", "risk.manage",
         "community.register", "community.view", "community.manage", "visit.review",
         "account.unbind", "case.view", "case.manage", "contact.view", "contact.manage",
         "trajectory.verify",
         "alert.view", "alert.manage",
         "health.view", "health.manage"}
    ),
    "checkpoint_staff": frozenset({"pass.verify", "registration.create", "site.view",
                                   "site.stats", "delivery.register"}),
    "community_manager": frozenset({"person.reveal", "community.view", "community.manage",
                                    "visit.review", "delivery.register"}),
    "enterprise_admin": frozenset({"enterprise.view", "enterprise.manage", "employee.view",
                                   "person.reveal", "report.supervise", "report.export",
                                   "trajectory.verify"}),
    "department_head": frozenset({"enterprise.view", "employee.view", "report.supervise",
                                  "report.export", "trajectory.verify"}),
    "supplies_officer": frozenset({"supplies.manage", "supplies.request"}),
    "public": frozenset({"pass.apply", "pass.view_own"}),
}


class PasswordService:
    """argon2id hashing; cost comes from settings (lower only in tests)."""

    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)

    def hash(self, password: str) -> str:
        """Hash a password for storage."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Check a password against a stored hash."""
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


def new_token() -> str:
    """Return a fresh random token for a cookie, bearer or CSRF value."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Hash a token for storage: a stolen table yields no usable tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Binding:
    """A role within a scope."""

    role: str
    scope_type: str
    scope_value: str = ""


@dataclass(frozen=True)
class Principal:
    """Who is asking: the logged-in user and their scoped roles."""

    user_id: uuid.UUID
    username: str
    display_name: str
    person_id: uuid.UUID | None
    bindings: tuple[Binding, ...] = ()
    ip: str | None = None
    csrf_token: str = ""
    auth_kind: str = "web"
    locale: str | None = None

    @property
    def roles(self) -> frozenset[str]:
        """Return every role this principal holds, in any scope."""
        return frozenset(b.role for b in self.bindings)

    def has(self, permission: str) -> bool:
        """Tell whether any binding grants the permission somewhere."""
        return any(_grants(b.role, permission) for b in self.bindings)

    def covers_area(self, permission: str, area_code: str) -> bool:
        """Tell whether the permission is held for an area (or globally)."""
        for b in self.bindings:
            if not _grants(b.role, permission):
                continue
            if b.scope_type == "global":
                return True
            if b.scope_type == "area" and contains(b.scope_value, area_code):
                return True
        return False

    def area_scopes(self, permission: str) -> list[str] | None:
        """Return the area prefixes where the permission holds; None means everywhere."""
        prefixes: list[str] = []
        for b in self.bindings:
            if not _grants(b.role, permission):
                continue
            if b.scope_type == "global":
                return None
            if b.scope_type == "area":
                prefixes.append(significant_prefix(b.scope_value))
        return prefixes

    def covers(self, permission: str, scope_type: str, value: str) -> bool:
        """Tell whether the permission is held for a site/community/enterprise (or globally)."""
        return any(
            _grants(b.role, permission)
            and (b.scope_type == "global"
                 or (b.scope_type == scope_type and b.scope_value == value))
            for b in self.bindings
        )


def _grants(role: str, permission: str) -> bool:
    perms = ROLE_PERMISSIONS.get(role, frozenset())
    return "*" in perms or permission in perms
