"""Cases API: list, open, read, edit, close, reopen, history."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from passtrace.cases import present
from passtrace.cases import service as case_service
from passtrace.cases.schemas import (
    AREA_PATTERN,
    CaseCreate,
    CaseHistory,
    CasePage,
    CaseRead,
    CaseTransition,
    CaseUpdate,
)
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep, require
from passtrace.web.openapi import errors
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("", response_model=CasePage, dependencies=[require("case.view")])
def list_cases(
    session: SessionDep, principal: CurrentPrincipal,
    status: Literal["open", "closed"] | None = None,
    classification: Literal["confirmed", "suspected", "asymptomatic"] | None = None,
    area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None,
    cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
) -> CasePage:
    """List cases in your jurisdiction, newest first (each person shown is audited)."""
    rows, nxt = case_service.list_cases(session=session, actor=principal, status=status,
                                        classification=classification, area=area,
                                        cursor=cursor, limit=limit)
    return CasePage(items=present.to_read_many(session, rows), next=nxt)


@router.post("", response_model=CaseRead, status_code=201,
             dependencies=[require("case.manage")])
def create(data: CaseCreate, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> CaseRead:
    """Open a case for a person (by ID number or person id) in an area of your jurisdiction."""
    case = case_service.create(session=session, rt=rt, actor=principal, data=data)
    return present.to_read(session, case)


@router.get("/{case_id}", response_model=CaseRead, dependencies=[require("case.view")])
def read(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> CaseRead:
    """Show one case (audited as a read of its person's data)."""
    case = case_service.read(session=session, actor=principal, case_id=case_id, via="api")
    return present.to_read(session, case)


@router.patch("/{case_id}", response_model=CaseRead, dependencies=[require("case.manage")],
              responses=errors(409))
def patch(case_id: uuid.UUID, data: CaseUpdate, session: SessionDep,
          principal: CurrentPrincipal) -> CaseRead:
    """Edit or reclassify a case; `version` must be the one you read (409 if it changed)."""
    case = case_service.update_case(session=session, actor=principal, case_id=case_id,
                                    data=data)
    return present.to_read(session, case)


@router.post("/{case_id}/close", response_model=CaseRead,
             dependencies=[require("case.manage")])
def close(case_id: uuid.UUID, data: CaseTransition, session: SessionDep,
          principal: CurrentPrincipal) -> CaseRead:
    """Close an open case."""
    case = case_service.close(session=session, actor=principal, case_id=case_id, data=data)
    return present.to_read(session, case)


@router.post("/{case_id}/reopen", response_model=CaseRead,
             dependencies=[require("case.manage")])
def reopen(case_id: uuid.UUID, data: CaseTransition, session: SessionDep,
           principal: CurrentPrincipal) -> CaseRead:
    """Reopen a closed case."""
    case = case_service.reopen(session=session, actor=principal, case_id=case_id, data=data)
    return present.to_read(session, case)


@router.get("/{case_id}/history", response_model=CaseHistory,
            dependencies=[require("case.view")])
def history(case_id: uuid.UUID, session: SessionDep,
            principal: CurrentPrincipal) -> CaseHistory:
    """Every change to a case, oldest first, with each field before and after."""
    rows = case_service.history(session=session, actor=principal, case_id=case_id,
                                via="history")
    return CaseHistory(items=present.events(session, rows))
