"""The page where a person deletes their own account, after re-entering the password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from passtrace.core.errors import DomainError, RateLimited
from passtrace.retention import account_deletion
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
                   password: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Delete the account once the password is right, and log out."""
    try:
        account_deletion.delete_own_account(session=session, rt=rt, actor=principal,
                                            password=password)
    except DomainError as exc:
        if isinstance(exc, account_deletion.WrongPassword):
            session.commit()  # the failure counts towards the login throttle
        else:
            session.rollback()
        response = render(request, "retention/delete_account.html",
                          {"done": False, "error": exc.translated()}, status_code=exc.status)
        if isinstance(exc, RateLimited) and exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    session.commit()
    response = render(request, "retention/delete_account.html", {"done": True, "error": None})
    response.delete_cookie(SESSION_COOKIE)
    return response
