"""The page where an official unlinks a wrongly linked account (offices hand out claim
codes from their own pages: communities/compounds/claim_pages.py, enterprises/claim_pages.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from passtrace.accounts import binding
from passtrace.accounts.forms import UnbindForm
from passtrace.accounts.schemas import UnbindRequest
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


def _shown_once(request: Request, code: str, expires: object, back: str) -> Response:
    return render(request, "accounts/claim_code.html",
                  {"code": code, "expires_at": expires, "back": back})


@router.get("/people/{person_id}/unbind")
def unbind_form(request: Request, person_id: uuid.UUID, principal: CurrentPrincipal) -> Response:
    """Ask why the account linked to this person should be unlinked."""
    return render(request, "accounts/unbind.html", {"person_id": person_id, "done": False,
                                                    "error": None})


@router.post("/people/{person_id}/unbind")
def unbind(request: Request, person_id: uuid.UUID, session: SessionDep,
           principal: CurrentPrincipal, form: Annotated[UnbindForm, Form()]) -> Response:
    """Unlink the account; the account is told and the person's access log shows it."""
    def save(data: UnbindRequest) -> Response:
        binding.unbind(session=session, actor=principal, person_id=person_id,
                       reason=data.reason)
        return render(request, "accounts/unbind.html", {"person_id": person_id, "done": True,
                                                        "error": None})

    return forms.submit(session, form, save, lambda f: render(request, "accounts/unbind.html", {
        "person_id": person_id, "done": False, "error": f.first_error,
        "reason": form.reason}, status_code=f.status))
