"""Areas API: browse the division tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from passtrace.areas import service as area_service
from passtrace.core.i18n import get_locale
from passtrace.web.deps import CurrentPrincipal, SessionDep

router = APIRouter(prefix="/areas", tags=["areas"])


@router.get("")
def list_children(session: SessionDep, principal: CurrentPrincipal,
                  parent: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
                  ) -> list[dict[str, str]]:
    """List an area's children (the provinces without a parent)."""
    zh = get_locale() == "zh_CN"
    return [{"code": a.code, "name": a.name_zh if zh else a.name_en, "level": a.level}
            for a in area_service.children(session=session, parent_code=parent)]
