"""Who may do what with a pass: one place decides."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.security import Principal
from passtrace.passes.models import Pass


def is_holder(principal: Principal, p: Pass) -> bool:
    """Tell whether the principal is the pass holder."""
    return principal.person_id is not None and principal.person_id == p.person_id


def covers_all_areas(principal: Principal, permission: str, p: Pass) -> bool:
    """Tell whether a permission is held over every area the pass opens."""
    if not p.areas:
        return principal.area_scopes(permission) is None  # global holders only
    return all(principal.covers_area(permission, code) for code in p.areas)


def can_view(principal: Principal, p: Pass) -> bool:
    """Holder, or a reviewer whose jurisdiction covers the pass."""
    return is_holder(principal, p) or covers_all_areas(principal, "pass.view_scope", p)


def can_review(principal: Principal, p: Pass) -> bool:
    """An official scoped over every area of the pass (and not its own holder)."""
    return not is_holder(principal, p) and covers_all_areas(principal, "pass.review", p)


def can_revoke(principal: Principal, p: Pass) -> bool:
    """A reviewer in jurisdiction, or the holder withdrawing their own pass."""
    return is_holder(principal, p) or covers_all_areas(principal, "pass.revoke", p)


def reveal_allowed(*, session: Session, actor: Principal, person_id: uuid.UUID) -> bool:
    """person.reveal over every area of one of the person's passes (people.flows grant)."""
    passes = session.scalars(select(Pass).where(Pass.person_id == person_id).limit(500))
    return any(covers_all_areas(actor, "person.reveal", p) for p in passes)
