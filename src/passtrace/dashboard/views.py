"""Dashboard API: every figure of the command dashboard, for auto-refresh and other screens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from passtrace.dashboard import service
from passtrace.dashboard.schemas import DashboardRead
from passtrace.web.deps import CurrentPrincipal, SessionDep, require
from passtrace.web.openapi import errors

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@router.get("", response_model=DashboardRead, dependencies=[require("alert.view")],
            responses=errors(404, 422))
def dashboard(session: SessionDep, principal: CurrentPrincipal,
              area: Annotated[str, Query(max_length=40)] = "") -> DashboardRead:
    """The dashboard of my areas, or of one area inside them (`area`, a division code)."""
    return service.read(session=session, actor=principal, area=area or None)
