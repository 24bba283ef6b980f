"""A compound's office hands a resident a claim code (shown once)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.communities import claim_codes
from passtrace.core.errors import DomainError
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


@router.post("/communities/{code}/residents/{resident_id}/claim-code")
def resident_claim_code(request: Request, code: str, resident_id: uuid.UUID, session: SessionDep,
                        rt: RuntimeDep, principal: CurrentPrincipal) -> Response:
    """Make a claim code for a resident and show it this once."""
    back = f"/communities/{code}/households"
    try:
        raw, expires = claim_codes.issue_for_resident(session=session, rt=rt, actor=principal,
                                                  code=code, resident_id=resident_id)
    except DomainError as exc:
        session.rollback()
        return render(request, "error.html", {"status": exc.status,
                                              "message": exc.translated(), "back": back},
                      status_code=exc.status)
    return render(request, "accounts/claim_code.html",
                  {"code": raw, "expires_at": expires, "back": back})
