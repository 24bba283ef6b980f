"""Who the officials of an area are (for notices and assignment)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding, User
from passtrace.core.areacodes import contains, significant_prefix


def of_area(*, session: Session, area_code: str, exact: bool = False) -> list[uuid.UUID]:
    """Active officials bound to an area covering `area_code` (exact: bound to that
    very area, as escalation wants: the officials of the next area up, not of all)."""
    rows = session.execute(
        select(RoleBinding.user_id, RoleBinding.scope_value)
        .join(User, User.id == RoleBinding.user_id)
        .where(RoleBinding.role == "official", RoleBinding.scope_type == "area",
               User.is_active))
    want = significant_prefix(area_code)
    return sorted({uid for uid, scope in rows
                   if (significant_prefix(scope) == want if exact
                       else contains(scope, area_code))})


def is_official_of(*, session: Session, user_id: uuid.UUID, area_code: str) -> bool:
    """Whether a user may be assigned an alert queued in `area_code`."""
    return user_id in of_area(session=session, area_code=area_code)
