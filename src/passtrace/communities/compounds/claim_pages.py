"""A compound's office hands a resident a claim code (shown once)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.communities.compounds import claim_codes
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import claim_code_page, error_page

router = APIRouter(include_in_schema=False)


@router.post("/communities/{code}/residents/{resident_id}/claim-code")
def resident_claim_code(request: Request, code: str, resident_id: uuid.UUID,
                        session: SessionDep, rt: RuntimeDep,
                        principal: CurrentPrincipal) -> Response:
    """Make a claim code for a resident and show it this once."""
    back = f"/communities/{code}/households"
    return forms.attempt(
        session, lambda: claim_code_page(request, *claim_codes.issue_for_resident(
            session=session, rt=rt, actor=principal, code=code, resident_id=resident_id),
            back=back),
        lambda failure: error_page(request, failure.message or "", failure.status, back))
