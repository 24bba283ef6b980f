"""An employer's HR hands a current employee a claim code (shown once)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.core.errors import DomainError
from passtrace.enterprises import claim_codes
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


@router.post("/enterprises/{enterprise_id}/employees/{employee_id}/claim-code")
def employee_claim_code(request: Request, enterprise_id: uuid.UUID, employee_id: uuid.UUID,
                        session: SessionDep, rt: RuntimeDep,
                        principal: CurrentPrincipal) -> Response:
    """Make a claim code for a current employee and show it this once."""
    back = f"/enterprises/{enterprise_id}/employees/{employee_id}"
    try:
        raw, expires = claim_codes.issue_for_employee(session=session, rt=rt, actor=principal,
                                                  enterprise_id=enterprise_id,
                                                  employee_id=employee_id)
    except DomainError as exc:
        session.rollback()
        return render(request, "error.html", {"status": exc.status,
                                              "message": exc.translated(), "back": back},
                      status_code=exc.status)
    return render(request, "accounts/claim_code.html",
                  {"code": raw, "expires_at": expires, "back": back})
