"""The resident's page of a stricter outing rule: what changed, why, and the appeal form."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field

from passtrace.communities.compounds import rule_changes
from passtrace.communities.compounds.models import Community
from passtrace.rules import outings as rules
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.forms import FormModel
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


class RuleAppealForm(FormModel):
    """The resident's appeal text."""

    text: str = Field(default="", max_length=1000)


def _page(request: Request, session: SessionDep, principal: CurrentPrincipal,
          change_id: uuid.UUID, text: str = "", error: str | None = None,
          status_code: int = 200) -> Response:
    change = rule_changes.get_for_resident(session=session, actor=principal,
                                           change_id=change_id)
    c = session.get(Community, change.community_id)
    return render(request, "communities/rule_change.html", {
        "change": change, "c": c, "reason_label": rule_changes.reason_label(change.reason_code),
        "before": rules.summary(rules.rules_of(SimpleNamespace(**change.before))),
        "after": rules.summary(rules.rules_of(SimpleNamespace(**change.after))),
        "appeal": rule_changes.appeal_of(session=session, change=change,
                                         person_id=principal.person_id),
        "text": text, "error": error}, status_code=status_code)


@router.get("/community/rule-changes/{change_id}")
def show(request: Request, change_id: uuid.UUID, session: SessionDep,
         principal: CurrentPrincipal) -> Response:
    """The rules before and after, the reason, and my appeal (or the form to file one)."""
    return _page(request, session, principal, change_id)


@router.post("/community/rule-changes/{change_id}/appeal")
def file_appeal(request: Request, change_id: uuid.UUID, session: SessionDep,
                principal: CurrentPrincipal, form: Annotated[RuleAppealForm, Form()]) -> Response:
    """File the appeal and show the page again, which then shows it."""
    def save() -> Response:
        rule_changes.file(session=session, actor=principal, change_id=change_id,
                          text=form.text)
        return RedirectResponse(f"/community/rule-changes/{change_id}", status_code=303)

    return forms.attempt(session, save, lambda f: _page(
        request, session, principal, change_id, form.text, f.first_error, f.status))
