"""Pages of stricter outing rules: the resident's (what changed, why, the appeal form) and
the officials' queue of appeals over their areas, decided with a reason."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from passtrace.communities.compounds import rule_changes
from passtrace.communities.compounds.forms import RuleAppealDecisionForm, RuleAppealForm
from passtrace.communities.compounds.models import Community, RuleChange
from passtrace.communities.compounds.schemas import RuleAppealCreate, RuleAppealDecision
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.rules import outings as rules
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)
QUEUE = "/community-rule-appeals"
DECISION_MESSAGES = {"outcome": N_("Choose whether to uphold or reverse the decision.")}


def _summaries(change: RuleChange) -> dict[str, list[str]]:
    return {"before": rules.summary(rules.rules_of(SimpleNamespace(**change.before))),
            "after": rules.summary(rules.rules_of(SimpleNamespace(**change.after)))}


def _page(request: Request, session: SessionDep, principal: CurrentPrincipal,
          change_id: uuid.UUID, text: str = "", error: str | None = None,
          status_code: int = 200) -> Response:
    change = rule_changes.get_for_resident(session=session, actor=principal,
                                           change_id=change_id)
    c = session.get(Community, change.community_id)
    return render(request, "communities/rule_change.html", {
        "change": change, "c": c, "reason_label": rule_changes.reason_label(change.reason_code),
        **_summaries(change),
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
    def save(data: RuleAppealCreate) -> Response:
        rule_changes.file(session=session, actor=principal, change_id=change_id,
                          text=data.text)
        return RedirectResponse(f"/community/rule-changes/{change_id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _page(
        request, session, principal, change_id, form.text, f.first_error, f.status))


def _queue(request: Request, session: SessionDep, principal: Principal,
           failed: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    # Officials over areas only: the resident's and the manager's answer is 403 here.
    if not principal.has("community.register"):
        raise Forbidden("Your role does not allow this.")
    found = rule_changes.review_rows(session=session, actor=principal)
    rows = [{"r": r, "reason_label": rule_changes.reason_label(r.change.reason_code),
             **_summaries(r.change)} for r in found]
    shown = {r.appeal.id for r in found}
    return render(request, "communities/rule_appeals.html", {
        "rows": rows, "failed": failed or {},
        "failed_elsewhere": failed is not None and failed["id"] not in shown,
        "decided": request.query_params.get("decided") == "1"}, status_code=status_code)


@router.get(QUEUE)
def queue(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Open appeals against stricter outing rules in my areas, oldest first."""
    return _queue(request, session, principal)


@router.post(QUEUE + "/{appeal_id}/decide")
def decide(request: Request, appeal_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal,
           form: Annotated[RuleAppealDecisionForm, Form()]) -> Response:
    """Uphold or reverse (the service locks the appeal row), then back to the queue."""
    if not principal.has("community.register"):
        raise Forbidden("Your role does not allow this.")

    def save(data: RuleAppealDecision) -> Response:
        rule_changes.decide(session=session, settings=rt.settings, actor=principal,
                            appeal_id=appeal_id, outcome=data.outcome, reason=data.reason)
        return RedirectResponse(f"{QUEUE}?decided=1", status_code=303)

    def again(f: forms.Failure) -> Response:
        if f.status == 404:  # not in my areas (or no such appeal): nothing to show it on
            return render(request, "error.html", {"status": 404, "message": f.message,
                                                  "back": QUEUE}, status_code=404)
        failed = {"id": appeal_id, "message": f.first_error,
                  "outcome": f.values.get("outcome", ""), "reason": f.values.get("reason", "")}
        return _queue(request, session, principal, failed, f.status)

    return forms.submit(session, form, save, again, messages=DECISION_MESSAGES)
