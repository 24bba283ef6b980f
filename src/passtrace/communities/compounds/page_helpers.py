"""What the compound pages (compounds, outings, visits, deliveries) share: clean input, find the
compound, its navigation, times as the pages show them."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from passtrace.communities.compounds import authz
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Community
from passtrace.core.clock import LOCAL_TZ, local_today
from passtrace.core.errors import NotFound
from passtrace.core.i18n import gettext
from passtrace.core.security import Principal
from passtrace.core.validators import check_day

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


def minutes_text(minutes: int) -> str:
    """90 -> "1 h 30 min" (translated)."""
    if minutes < 60:
        return gettext("%(minutes)s min", minutes=minutes)
    return gettext("%(hours)s h %(minutes)s min", hours=minutes // 60, minutes=minutes % 60)


def shorttime(value: datetime | None) -> str:
    """Local time: HH:MM today, MM-DD HH:MM otherwise."""
    if value is None:
        return ""
    local = value.astimezone(LOCAL_TZ)
    return local.strftime("%H:%M" if local.date() == local_today() else "%m-%d %H:%M")


TIME_HELPERS = {"minutes_text": minutes_text, "shorttime": shorttime}


def compound_ctx(principal: Principal, c: Community, section: str) -> dict[str, Any]:
    """What a manager's compound page needs: the compound, its navigation, the time helpers."""
    return {"c": c, "can_manage": authz.can_manage(principal, c), "section": section,
            **TIME_HELPERS}


def query_day(raw: str) -> tuple[date | None, str | None]:
    """A day from a query (None: the default view) or a message saying it is not one."""
    raw = clean_text(raw, 20)
    if not raw:
        return None, None
    try:
        day = check_day(date.fromisoformat(raw[:10]))  # the bounds of every date input
    except ValueError:
        return None, gettext("Enter a date.")
    return day, None


def compound_nav(principal: Principal, c: Community, section: str) -> dict[str, Any]:
    """What the compound's navigation (communities/_nav.html) needs."""
    return {"c": c, "can_manage": authz.can_manage(principal, c), "section": section,
            "show_nav": authz.can_view(principal, c)}
