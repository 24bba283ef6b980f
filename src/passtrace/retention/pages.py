"""The page where a person deletes their own account, after re-entering the password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from passtrace.retention import account_deletion
from passtrace.retention.schemas import DeleteAccountForm, DeleteAccountRequest
from passtrace.web import forms
from passtrace.web.deps import SESSION_COOKIE, CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/me/delete-account")
def delete_form(request: Request, principal: CurrentPrincipal) -> Response:
    """What is deleted, what is kept and why, and the confirmation form."""
    return render(request, "retention/delete_account.html", {"done": False, "error": None})


@router.post("/me/delete-account")
def delete_account(request: Request, session: SessionDep, rt: RuntimeDep,
                   principal: CurrentPrincipal,
                   form: Annotated[DeleteAccountForm, Form()]) -> Response:
    """Delete the account once the password is right, and log out."""
    def delete(data: DeleteAccountRequest) -> Response:
        account_deletion.delete_own_account(session=session, rt=rt, actor=principal,
                                            password=data.password)
        response = render(request, "retention/delete_account.html",
                          {"done": True, "error": None})
        response.delete_cookie(SESSION_COOKIE)
        return response

    def refused(f: forms.Failure) -> Response:
        response = render(request, "retention/delete_account.html",
                          {"done": False, "error": f.first_error}, status_code=f.status)
        response.headers.update(f.headers)  # Retry-After once the throttle holds
        return response

    # A wrong password keeps its count in the login throttle (written before refusing).
    return forms.submit(session, form, delete, refused, keep_refusal=True)
