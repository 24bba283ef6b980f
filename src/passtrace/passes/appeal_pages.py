"""Appeal pages: the holder appeals from the pass page; officials decide in a queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field

from passtrace.core.errors import Forbidden
from passtrace.passes import appeals, coercion
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.forms import FormModel
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


class AppealForm(FormModel):
    """The holder's appeal text."""

    text: str = Field(default="", max_length=1000)


class AppealDecisionForm(FormModel):
    """Uphold or reverse, with the reason."""

    outcome: str = Field(default="", max_length=10)
    reason: str = Field(default="", max_length=500)


@router.post("/passes/{pass_id}/appeal")
def file_appeal(request: Request, pass_id: uuid.UUID, session: SessionDep,
                principal: CurrentPrincipal, form: Annotated[AppealForm, Form()]) -> Response:
    """File the appeal and go back to the pass page, which shows it."""
    def save() -> Response:
        appeals.file(session=session, actor=principal, pass_id=pass_id, text=form.text)
        return RedirectResponse(f"/passes/{pass_id}", status_code=303)

    return forms.attempt(session, save, lambda f: render(
        request, "error.html", {"status": f.status, "message": f.message,
                                "back": f"/passes/{pass_id}"}, status_code=f.status))


@router.get("/pass-appeals")
def queue(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Pending appeals in my jurisdiction, each with the revocation and the appeal text."""
    if not principal.has("pass.review"):
        raise Forbidden("Your role does not allow this.")
    rows = [{"a": a, "p": a.revoked_pass,
             "reason_label": coercion.reason_label(a.revoked_pass.revoke_reason_code),
             "own": a.revoked_pass.revoked_by == principal.user_id}
            for a in appeals.list_for_review(session=session, actor=principal)]
    return render(request, "passes/appeals.html", {"rows": rows})


@router.post("/pass-appeals/{appeal_id}/decide")
def decide(request: Request, appeal_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, form: Annotated[AppealDecisionForm, Form()]) -> Response:
    """Decide an appeal and go back to the queue."""
    def save() -> Response:
        appeals.decide(session=session, rt=rt, actor=principal, appeal_id=appeal_id,
                       outcome=form.outcome,  # type: ignore[arg-type]  # checked there
                       reason=form.reason)
        return RedirectResponse("/pass-appeals?decided=1", status_code=303)

    return forms.attempt(session, save, lambda f: render(
        request, "error.html", {"status": f.status, "message": f.message,
                                "back": "/pass-appeals"}, status_code=f.status))
