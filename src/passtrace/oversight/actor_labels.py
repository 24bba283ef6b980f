"""Describe staff as "role · office" for the people whose data they touched (audit.actors)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding
from passtrace.accounts.role_labels import ROLE_LABELS
from passtrace.areas import service as area_service
from passtrace.communities.compounds.models import Community
from passtrace.core.i18n import get_locale
from passtrace.enterprises.models import Department, Enterprise
from passtrace.sites.models import Site

# A person with several roles is described by the one that acts on others' data.
_RANK = tuple(ROLE_LABELS)


def office_names(session: Session,
                 scopes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Name every (scope type, scope value) in one query per scope type."""
    wanted: dict[str, set[str]] = {}
    for scope_type, scope_value in scopes:
        wanted.setdefault(scope_type, set()).add(scope_value)
    out: dict[tuple[str, str], str] = {}
    for code, name in area_service.names(session=session, codes=sorted(wanted.get("area", ())),
                                         locale=get_locale()).items():
        out[("area", code)] = name
    for kind, model, key in (("site", Site, Site.code), ("community", Community, Community.code),
                             ("enterprise", Enterprise, Enterprise.credit_code)):
        if wanted.get(kind):
            for row in session.execute(select(key, model.name).where(key.in_(wanted[kind]))):
                out[(kind, row[0])] = row[1]
    dept_ids = []
    for value in wanted.get("department", ()):
        try:
            dept_ids.append(uuid.UUID(value))
        except ValueError:
            continue
    if dept_ids:
        rows = session.execute(select(Department.id, Department.name, Enterprise.name)
                               .join(Enterprise, Enterprise.id == Department.enterprise_id)
                               .where(Department.id.in_(dept_ids)))
        for dept_id, dept, enterprise in rows:
            out[("department", str(dept_id))] = f"{enterprise} {dept}"
    return out


def describe(session: Session, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Map user ids to "role · office" (the office left out when the scope is global)."""
    bindings = list(session.scalars(select(RoleBinding).where(RoleBinding.user_id.in_(user_ids))))
    names = office_names(session, [(b.scope_type, b.scope_value) for b in bindings])
    best: dict[uuid.UUID, RoleBinding] = {}
    for b in bindings:
        if b.role not in ROLE_LABELS:
            continue
        held = best.get(b.user_id)
        if held is None or _RANK.index(b.role) < _RANK.index(held.role):
            best[b.user_id] = b
    out = {}
    for user_id, b in best.items():
        office = names.get((b.scope_type, b.scope_value), "")
        role = str(ROLE_LABELS[b.role])
        out[user_id] = f"{role} · {office}" if office and b.role != "public" else role
    return out
