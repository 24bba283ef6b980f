"""What the compound pages (pages.py, visit_pages.py) share: clean input, find the compound."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from passtrace.communities import service as community_service
from passtrace.communities.models import Community
from passtrace.core.errors import NotFound
from passtrace.core.security import Principal

CODE = re.compile(r"^\d{12}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(value: str, limit: int) -> str:
    """Form or query text without control characters (PostgreSQL refuses NUL), capped."""
    return CONTROL.sub("", value).strip()[:limit]


def community_or_404(session: Session, principal: Principal, code: str) -> Community:
    """A compound the principal runs or oversees; any other code is "not found"."""
    if not CODE.match(code):
        raise NotFound("No such community.")
    return community_service.get_visible(session=session, actor=principal, code=code)
