"""An employer's HR hands a current employee a claim code (shown once)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.enterprises import claim_codes
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import claim_code_page, error_page

router = APIRouter(include_in_schema=False)


@router.post("/enterprises/{enterprise_id}/employees/{employee_id}/claim-code")
def employee_claim_code(request: Request, enterprise_id: uuid.UUID, employee_id: uuid.UUID,
                        session: SessionDep, rt: RuntimeDep,
                        principal: CurrentPrincipal) -> Response:
    """Make a claim code for a current employee and show it this once."""
    back = f"/enterprises/{enterprise_id}/employees/{employee_id}"
    return forms.attempt(
        session, lambda: claim_code_page(request, *claim_codes.issue_for_employee(
            session=session, rt=rt, actor=principal, enterprise_id=enterprise_id,
            employee_id=employee_id), back=back),
        lambda failure: error_page(request, failure.message or "", failure.status, back))
