"""Areas API: browse the division tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from passtrace.areas import service as area_service
from passtrace.core.i18n import get_locale
from passtrace.core.pagination import Page, paginate_items
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/areas", tags=["areas"])


class AreaRead(BaseModel):
    """One administrative division, named in the request's language."""

    code: str
    name: str
    level: str


@router.get("", response_model=Page[AreaRead])
def list_children(session: SessionDep, principal: CurrentPrincipal,
                  parent: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
                  cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[AreaRead]:
    """List an area's children by code (the provinces without a parent)."""
    zh = get_locale() == "zh_CN"
    rows, nxt = paginate_items(area_service.children(session=session, parent_code=parent),
                               lambda a: (a.code,), cursor=cursor, limit=limit)
    return Page(items=[AreaRead(code=a.code, name=a.name_zh if zh else a.name_en,
                                level=a.level) for a in rows], next=nxt)
