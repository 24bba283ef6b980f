"""Health pages: my status on my phone (and my appeals); for officials a person's status
with the four-eyes proposal form, the proposals to approve and the appeals to decide."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from passtrace.codec.qr import qr_svg
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import gettext
from passtrace.core.pagination import DEFAULT_LIMIT
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.health import appeals, authz, jurisdiction, manual, present, reading, roster, search
from passtrace.health.forms import (
    AppealDecisionForm,
    AppealForm,
    ProposalDecisionForm,
    ProposalForm,
)
from passtrace.health.schemas import (
    AppealCreate,
    AppealDecision,
    ProposalCreate,
    ProposalDecision,
)
from passtrace.people.models import Person
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/health", include_in_schema=False)
LEVEL_CHOICES = ("yellow", "red", "green")


def _me(request: Request, session: Session, rt: Runtime, principal: Principal,
        failure: forms.Failure | None = None) -> Response:
    person = reading.own(session=session, actor=principal)
    view = present.status_read(session, rt, person, with_code=True)
    qr = Markup(qr_svg(view.code or "", scale=5).decode())  # noqa: S704 - our own SVG
    return render(request, "health/me.html", {
        "s": view, "qr": qr, "appeal_hours": rt.settings.health_appeal_hours,
        "appeals": [present.appeal_read(a) for a in appeals.for_person(
            session=session, person_id=person.id)],
        "values": failure.values if failure else {},
        "errors": failure.errors_or_message if failure else {},
    }, status_code=failure.status if failure else 200)


@router.get("/me")
def me(request: Request, session: SessionDep, rt: RuntimeDep,
       principal: CurrentPrincipal) -> Response:
    """My status: colour, masked name, last update, the signed code, why, until, history."""
    return _me(request, session, rt, principal)


@router.post("/me/appeal")
def appeal(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
           form: Annotated[AppealForm, Form()]) -> Response:
    """Appeal one flag, or show the page again with what is wrong."""
    def save(data: AppealCreate) -> Response:
        appeals.file(session=session, actor=principal, flag_id=data.flag_id,
                     statement=data.statement, hours=rt.settings.health_appeal_hours)
        return RedirectResponse("/health/me#appeals", status_code=303)

    return forms.submit(session, form, save,
                        lambda f: _me(request, session, rt, principal, f),
                        messages={"statement": "Give 4 to 500 characters."})


def _person(request: Request, session: Session, rt: Runtime, principal: Principal,
            person_id: uuid.UUID, failure: forms.Failure | None = None) -> Response:
    person = reading.for_official(session=session, actor=principal, person_id=person_id,
                                  via="page")
    return render(request, "health/person.html", {
        "s": present.status_read(session, rt, person, with_code=False),
        "proposals": [present.proposal_read(p, principal.user_id)
                      for p in manual.for_person(session=session, person_id=person.id)],
        "can_propose": authz.can_manage(session, principal, person.id),
        "levels": [(lv, present.LEVEL_LABELS[lv]) for lv in LEVEL_CHOICES],
        "values": failure.values if failure else {},
        "errors": failure.errors_or_message if failure else {},
    }, status_code=failure.status if failure else 200)


@router.get("/people/{person_id}")
def person_page(person_id: uuid.UUID, request: Request, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal) -> Response:
    """A person's status, flags, history and proposals (audited)."""
    return _person(request, session, rt, principal, person_id)


@router.post("/people/{person_id}/propose")
def propose(person_id: uuid.UUID, request: Request, session: SessionDep, rt: RuntimeDep,
            principal: CurrentPrincipal, form: Annotated[ProposalForm, Form()]) -> Response:
    """File a proposal for a second official, or show the page again."""
    authz.require(principal, "health.manage")

    def save(data: ProposalCreate) -> Response:
        # The person is the page's (the hidden field only carries it through the schema).
        manual.propose(session=session, actor=principal, person_id=person_id,
                       level=data.level, reason=data.reason, until=data.until)
        return RedirectResponse(f"/health/people/{person_id}#proposals", status_code=303)

    return forms.submit(session, form, save,
                        lambda f: _person(request, session, rt, principal, person_id, f),
                        messages={"until": "Enter a date.", "level": "Choose a status."})


def _search(request: Request, principal: Principal, *, hits: list[Person] | None = None,
            error: str | None = None, status_code: int = 200) -> Response:
    authz.require(principal, "health.view")
    return render(request, "health/search.html", {
        "searched": hits is not None, "search_error": error,
        "hits": [{"id": p.id, "name": p.name_masked, "id_masked": p.id_masked,
                  "status": p.status, "label": gettext(present.LEVEL_LABELS[p.status])}
                 for p in hits or ()]}, status_code=status_code)


@router.get("/people")
def people(request: Request, principal: CurrentPrincipal) -> Response:
    """Find a person in my areas by ID number or mobile number."""
    return _search(request, principal)


@router.post("/people/search")
def people_search(request: Request, session: SessionDep, rt: RuntimeDep,
                  principal: CurrentPrincipal, q: Annotated[str, Form()] = "") -> Response:
    """The people the number names in my areas (each hit audited); else "not found"."""
    try:
        hits = search.find(session=session, rt=rt, actor=principal, query=q, via="page")
    except ValidationFailed as exc:
        return _search(request, principal, error=exc.translated(), status_code=422)
    return _search(request, principal, hits=hits)


@router.get("/flagged")
def flagged(request: Request, session: SessionDep, principal: CurrentPrincipal,
            level: str = "red", area: str = "", cursor: str = "") -> Response:
    """The people red (or yellow) now in my areas: the list behind the dashboard's counts."""
    rows, nxt = roster.people(session=session, actor=principal, level=level[:8],
                              area=area[:40], cursor=cursor[:600] or None,
                              limit=DEFAULT_LIMIT, via="flagged_list")
    # One read for the whole page, not one per person (jurisdiction.covered).
    linked = jurisdiction.covered(session, principal, "health.view", [p.id for p in rows])
    return render(request, "health/flagged.html", {
        "level": level, "label": gettext(present.LEVEL_LABELS[level]), "area": area,
        # The list goes by where a flag's reason arose (as the count and the alert queue
        # do); the person's status page by the areas they are known in
        # (health/jurisdiction): link only those whose page this official may open.
        "people": [{"id": p.id, "name": p.name_masked or p.id_masked,
                    "id_masked": p.id_masked,
                    "linked": p.id in linked}
                   for p in rows],
        "next": nxt})


def _queue(request: Request, session: Session, principal: Principal,
           failure: forms.Failure | None = None) -> Response:
    authz.require(principal, "health.manage")
    proposals = manual.list_pending(session=session, actor=principal)
    pending = appeals.list_pending(session=session, actor=principal)
    # The second signature is given knowing whose status it changes and who asked for it:
    # the masked name and the proposer. Each person shown is read in their access log once
    # (record_queue, as the API's queue does).
    reading.record_queue(session=session, actor=principal, proposals=proposals,
                         appeals=pending, via="queue")
    people = present.masked_names(session, [p.person_id for p in proposals]
                                  + [a.person_id for a in pending])
    return render(request, "health/queue.html", {
        "proposals": [present.proposal_read(p, principal.user_id) for p in proposals],
        "proposers": present.user_names(session, [p.proposed_by for p in proposals]),
        "proposed_by": {p.id: p.proposed_by for p in proposals},
        "people": people,
        "appeals": [present.appeal_read(a) for a in pending],
        "levels": dict(present.LEVEL_LABELS),
        "errors": failure.errors_or_message if failure else {},
    }, status_code=failure.status if failure else 200)


@router.get("/queue")
def queue(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Other officials' proposals to approve or refuse, and appeals to decide."""
    return _queue(request, session, principal)


@router.post("/proposals/{proposal_id}/decide")
def decide_proposal(proposal_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: CurrentPrincipal,
                    form: Annotated[ProposalDecisionForm, Form()]) -> Response:
    """Approve or refuse another official's proposal (never one's own)."""
    def save(data: ProposalDecision) -> Response:
        manual.decide(session=session, actor=principal, proposal_id=proposal_id,
                      approve=data.approve, note=data.note)
        return RedirectResponse("/health/queue", status_code=303)

    return forms.submit(session, form, save, lambda f: _queue(request, session, principal, f))


@router.post("/appeals/{appeal_id}/decide")
def decide_appeal(appeal_id: uuid.UUID, request: Request, session: SessionDep,
                  principal: CurrentPrincipal,
                  form: Annotated[AppealDecisionForm, Form()]) -> Response:
    """Grant or refuse an appeal, with a reason."""
    def save(data: AppealDecision) -> Response:
        appeals.decide(session=session, actor=principal, appeal_id=appeal_id,
                       grant=data.grant, reason=data.reason)
        return RedirectResponse("/health/queue", status_code=303)

    return forms.submit(session, form, save, lambda f: _queue(request, session, principal, f),
                        messages={"reason": "Give 4 to 500 characters."})
