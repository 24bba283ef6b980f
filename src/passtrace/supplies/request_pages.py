"""Requests on pages: a checkpoint, community, hospital or enterprise files one; officers
work the queue (filters: priority, state, depot) and decide; both see a request's page
with its decision and the transfers on the way."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.clock import local_today
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.pagination import paginate_items
from passtrace.core.security import Principal
from passtrace.notices.service import standard_notifier
from passtrace.supplies import authz, requests, submissions
from passtrace.supplies.allocation import PRIORITY_LABELS
from passtrace.supplies.forms import Decision, DecisionForm, RequestForm, SupplyRequestIn
from passtrace.supplies.models import (
    PRIORITIES,
    REQUEST_STATES,
    Depot,
    SupplyItem,
    SupplyLot,
    SupplyRequest,
    SupplyTransfer,
)
from passtrace.supplies.page_helpers import (
    STATE_LABELS,
    TRANSFER_LABELS,
    depot_for,
    depots_in_scope,
    item_choices,
    parse_id,
    require_officer,
)
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/supplies", include_in_schema=False)
PAGE_SIZE = 50
_RANK = {p: i for i, p in enumerate(PRIORITIES)}


def _priorities() -> list[tuple[str, str]]:
    return [(p, str(PRIORITY_LABELS[p])) for p in PRIORITIES]


# --- file a request -----------------------------------------------------------------------

def _request_form(request: Request, session: Session, depot: Depot, values: dict[str, Any],
                  errors: dict[str, str], message: str | None = None,
                  status_code: int = 200) -> Response:
    return render(request, "supplies/request_new.html", {
        "depot": depot, "items": item_choices(session), "priorities": _priorities(),
        "values": values, "errors": errors, "message": message}, status_code=status_code)


def _requester_depot(session: Session, principal: Principal, depot_id: uuid.UUID) -> Depot:
    depot = depot_for(session, principal, depot_id)
    if not authz.can_request(principal, depot):
        raise NotFound("No such depot.")
    return depot


@router.get("/depots/{depot_id}/requests/new")
def request_form(depot_id: uuid.UUID, request: Request, session: SessionDep,
                 principal: CurrentPrincipal) -> Response:
    """Ask for supplies: item, quantity, priority, needed by, why."""
    depot = _requester_depot(session, principal, depot_id)
    return _request_form(request, session, depot, {
        "form_id": str(uuid7()), "priority": "normal",
        "needed_by": (local_today() + timedelta(days=3)).isoformat()}, {})


@router.post("/depots/{depot_id}/requests/new")
def file_request(depot_id: uuid.UUID, request: Request, session: SessionDep,
                 principal: CurrentPrincipal, form: Annotated[RequestForm, Form()]) -> Response:
    """File the request and show it; the form again with what to fix."""
    depot = _requester_depot(session, principal, depot_id)

    def save(data: SupplyRequestIn) -> Response:
        earlier = submissions.claim(session, data.form_id, "request")
        if earlier:
            return RedirectResponse(earlier, status_code=303)
        r = requests.file_request(session=session, actor=principal, depot_id=depot.id,
                                  item_id=data.item_id, quantity=data.quantity,
                                  priority=data.priority, needed_by=data.needed_by,
                                  justification=data.justification)
        url = submissions.done(session, data.form_id, f"/supplies/requests/{r.id}")
        return RedirectResponse(url, status_code=303)

    return forms.submit(session, form, save, lambda f: _request_form(
        request, session, depot, f.values, f.errors_or_message, f.message, f.status),
        messages={"needed_by": N_("Enter a date."),
                  "quantity": N_("Enter a whole number above zero.")})


# --- one request --------------------------------------------------------------------------

def _visible_request(session: Session, principal: Principal, request_id: uuid.UUID
                     ) -> tuple[SupplyRequest, Depot, bool]:
    """The request, its depot, and whether this user may decide it."""
    authz.require_supplies_user(principal)  # a resident: 403, whatever the id
    r = session.get(SupplyRequest, request_id)
    if r is None:
        raise NotFound("No such supplies request.")
    depot = depot_for(session, principal, r.depot_id, missing=N_("No such supplies request."))
    return r, depot, principal.covers_area(authz.MANAGE, depot.area_code)


def _transfers_for(session: Session, r: SupplyRequest) -> list[dict[str, Any]]:
    """Transfers of the item to the depot since the request: what is on the way for it."""
    rows = session.execute(
        select(SupplyTransfer, SupplyLot.lot_number, Depot.name)
        .join(SupplyLot, SupplyLot.id == SupplyTransfer.lot_id)
        .join(Depot, Depot.id == SupplyTransfer.from_depot_id)
        .where(SupplyTransfer.to_depot_id == r.depot_id, SupplyTransfer.item_id == r.item_id,
               SupplyTransfer.created_at >= r.created_at)
        .order_by(SupplyTransfer.created_at).limit(50)).all()
    return [{"id": t.id, "lot": lot, "from": src, "quantity": t.quantity,
             "state": TRANSFER_LABELS[t.state], "in_transit": t.state == "in_transit",
             "received": t.received_quantity, "discrepancy": t.discrepancy}
            for t, lot, src in rows]


def _request_page(request: Request, session: Session, principal: Principal,
                  request_id: uuid.UUID, failed: forms.Failure | None = None) -> Response:
    r, depot, decides = _visible_request(session, principal, request_id)
    item = session.get(SupplyItem, r.item_id)
    values = failed.values if failed else {"form_id": str(uuid7())}
    return render(request, "supplies/request.html", {
        "r": r, "depot": depot, "item": item, "decides": decides and r.state == "open",
        "receives": authz.can_manage(principal, depot),
        "state": STATE_LABELS[r.state], "priority": PRIORITY_LABELS[r.priority],
        "transfers": _transfers_for(session, r), "values": values,
        "errors": failed.errors_or_message if failed else {},
        "message": failed.message if failed else None},
        status_code=failed.status if failed else 200)


@router.get("/requests/{request_id}")
def request_detail(request_id: uuid.UUID, request: Request, session: SessionDep,
                   principal: CurrentPrincipal) -> Response:
    """A request: what was asked, the decision and why, the transfers on the way."""
    return _request_page(request, session, principal, request_id)


@router.post("/requests/{request_id}/decision")
def decide(request_id: uuid.UUID, request: Request, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal, form: Annotated[DecisionForm, Form()]) -> Response:
    """Approve, partly approve (a quantity and a reason) or reject (a reason)."""
    r, _, _ = _visible_request(session, principal, request_id)
    require_officer(principal)

    def save(data: Decision) -> Response:
        earlier = submissions.claim(session, data.form_id, "decision")
        if earlier:
            return RedirectResponse(earlier, status_code=303)
        quantity = {"approve": r.quantity, "reject": 0}.get(data.action, data.approved_quantity)
        if quantity is None:
            raise ValidationFailed("Give the quantity to approve.", fields={
                "approved_quantity": N_("Enter a whole number above zero.")})
        if data.action == "partly" and not 0 < quantity < r.quantity:
            raise ValidationFailed("A partial approval is less than was asked, above zero.",
                                   fields={"approved_quantity": N_("Out of range.")})
        requests.decide(session=session, actor=principal, request_id=r.id,
                        approved_quantity=quantity, reason=data.reason,
                        notifier=standard_notifier(session, rt.settings))
        url = submissions.done(session, data.form_id, f"/supplies/requests/{r.id}")
        return RedirectResponse(url, status_code=303)

    return forms.submit(session, form, save,
                        lambda f: _request_page(request, session, principal, r.id, f))


# --- the officer's queue ------------------------------------------------------------------

@router.get("/requests")
def queue(request: Request, session: SessionDep, principal: CurrentPrincipal,
          priority: str = "", state: str = "open", depot: str = "",
          cursor: str | None = None) -> Response:
    """Requests from depots in my areas, most urgent first, then oldest."""
    require_officer(principal)
    # Filters come from links typed or edited by hand: unknown values mean "any".
    priority = priority if priority in PRIORITIES else ""
    state = state if state in REQUEST_STATES else ""
    depot_id = parse_id(depot)
    depots = {d.id: d for d in depots_in_scope(session, principal)
              if principal.covers_area(authz.MANAGE, d.area_code)}
    stmt = (select(SupplyRequest, SupplyItem.name)
            .join(SupplyItem, SupplyItem.id == SupplyRequest.item_id)
            .where(SupplyRequest.depot_id.in_(list(depots)))
            .order_by(SupplyRequest.created_at).limit(5000))
    if priority:
        stmt = stmt.where(SupplyRequest.priority == priority)
    if state:
        stmt = stmt.where(SupplyRequest.state == state)
    if depot_id is not None:
        stmt = stmt.where(SupplyRequest.depot_id == depot_id)
    rows = session.execute(stmt).all()
    page, nxt = paginate_items(rows, lambda row: (_RANK[row[0].priority],
                                                  row[0].created_at, row[0].id),
                               cursor=cursor, limit=PAGE_SIZE)
    keep = {k: v for k, v in {"priority": priority, "state": state, "depot": depot}.items()
            if v}
    return render(request, "supplies/queue.html", {
        "rows": [{"id": r.id, "depot": depots[r.depot_id].name, "item": name,
                  "quantity": r.quantity, "priority": PRIORITY_LABELS[r.priority],
                  "priority_code": r.priority, "state": STATE_LABELS[r.state],
                  "approved": r.approved_quantity, "needed_by": r.needed_by}
                 for r, name in page],
        "filter": {"priority": priority, "state": state, "depot": depot},
        "priorities": _priorities(),
        "states": [(s, str(STATE_LABELS[s])) for s in REQUEST_STATES],
        "depots": sorted(depots.values(), key=lambda d: d.name),
        "next_url": f"/supplies/requests?{urlencode({**keep, 'cursor': nxt})}" if nxt else None,
        "first_url": f"/supplies/requests?{urlencode(keep)}" if cursor else None})
