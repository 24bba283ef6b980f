"""What roles and scope types are called on screen (the codes stay in the database)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy.orm import Session

from passtrace.core.i18n import lazy_gettext

# Names the offices of scopes: (scope type, value) -> name, e.g. a department's id -> "贵阳黔筑
# 建设工程有限公司 销售部". Accounts sit below the domains that own those offices, so
# oversight registers it (wiring).
ScopeNamer = Callable[[Session, Collection[tuple[str, str]]], dict[tuple[str, str], str]]
_namers: list[ScopeNamer] = []

ROLE_LABELS = {
    "admin": lazy_gettext("Administrator"),
    "official": lazy_gettext("Prevention office official"),
    "checkpoint_staff": lazy_gettext("Checkpoint or gate staff"),
    "community_manager": lazy_gettext("Community manager"),
    "enterprise_admin": lazy_gettext("Enterprise prevention officer"),
    "department_head": lazy_gettext("Department head"),
    "supplies_officer": lazy_gettext("Supplies officer"),
    "public": lazy_gettext("Resident"),
}
SCOPE_LABELS = {
    "global": lazy_gettext("Everywhere"),
    "area": lazy_gettext("Area (division code)"),
    "site": lazy_gettext("Checkpoint or gate (site code)"),
    "community": lazy_gettext("Compound (community code)"),
    "enterprise": lazy_gettext("Enterprise (credit code)"),
    "department": lazy_gettext("Department"),
    "depot": lazy_gettext("Supply depot (depot code)"),
}


def role_label(role: str) -> str:
    """The role's name in the current language (the code only if it is unknown)."""
    label = ROLE_LABELS.get(role)
    return str(label) if label is not None else role


def scope_label(scope_type: str) -> str:
    """The scope type's name in the current language."""
    label = SCOPE_LABELS.get(scope_type)
    return str(label) if label is not None else scope_type


def register_scope_namer(namer: ScopeNamer) -> None:
    """Let a higher layer name scopes on the account pages (idempotent)."""
    if namer not in _namers:
        _namers.append(namer)


def department_names(session: Session, values: Collection[str]) -> dict[str, str]:
    """Department scope values (ids, meaningless on screen) to "enterprise department"."""
    scopes = [("department", v) for v in values]
    out: dict[str, str] = {}
    for namer in _namers:
        out.update({value: name for (kind, value), name in namer(session, scopes).items()
                    if kind == "department"})
    return out
