"""Depot staff's phone pages: my depots, a depot's stock and deliveries on the way,
receive a delivery (from a supplier, or an incoming transfer), issue, count.

Every form is shown with a fresh form id and claims it when saved (submissions.py),
so a double tap moves stock once; the second tap lands on the first one's result.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.errors import InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.supplies import authz, ledger, service, submissions
from passtrace.supplies.allocation import PRIORITY_LABELS
from passtrace.supplies.forms import (
    Count,
    CountForm,
    Issue,
    IssueForm,
    Receipt,
    ReceiptForm,
    TransferReceipt,
    TransferReceiptForm,
)
from passtrace.supplies.models import (
    Depot,
    StockBalance,
    SupplyItem,
    SupplyLot,
    SupplyRequest,
    SupplyTransfer,
)
from passtrace.supplies.page_helpers import (
    KIND_LABELS,
    STATE_LABELS,
    TRANSFER_LABELS,
    depot_for,
    depots_in_scope,
    item_choices,
    lots_of,
    may_request,
    require_supplies_user,
)
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/supplies", include_in_schema=False)


def _done(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/depots")
def my_depots(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The depots I work at (one: straight to it)."""
    require_supplies_user(principal)
    depots = depots_in_scope(session, principal)
    if len(depots) == 1:
        return _done(f"/supplies/depots/{depots[0].id}")
    return render(request, "supplies/depots.html",
                  {"depots": depots, "kinds": KIND_LABELS})


def _stock(session: Session, depot: Depot) -> list[dict[str, Any]]:
    rows = session.execute(
        select(StockBalance.quantity, SupplyLot, SupplyItem)
        .join(SupplyLot, SupplyLot.id == StockBalance.lot_id)
        .join(SupplyItem, SupplyItem.id == StockBalance.item_id)
        .where(StockBalance.depot_id == depot.id, StockBalance.quantity > 0)
        .order_by(SupplyItem.name, SupplyLot.expires_on, SupplyLot.lot_number)).all()
    return [{"item": i.name, "unit": i.unit, "lot": lot.lot_number, "lot_id": lot.id,
             "expires_on": lot.expires_on, "quantity": q} for q, lot, i in rows]


def incoming(session: Session, depot: Depot) -> list[dict[str, Any]]:
    """Transfers on the way to the depot, oldest first."""
    rows = session.execute(
        select(SupplyTransfer, SupplyItem.name, SupplyLot.lot_number, Depot.name)
        .join(SupplyItem, SupplyItem.id == SupplyTransfer.item_id)
        .join(SupplyLot, SupplyLot.id == SupplyTransfer.lot_id)
        .join(Depot, Depot.id == SupplyTransfer.from_depot_id)
        .where(SupplyTransfer.to_depot_id == depot.id, SupplyTransfer.state == "in_transit")
        .order_by(SupplyTransfer.created_at).limit(200)).all()
    return [{"id": t.id, "item": i, "lot": lot, "from": src, "quantity": t.quantity,
             "sent_at": t.created_at} for t, i, lot, src in rows]


def _requests(session: Session, depot: Depot) -> list[dict[str, Any]]:
    rows = session.execute(
        select(SupplyRequest, SupplyItem.name)
        .join(SupplyItem, SupplyItem.id == SupplyRequest.item_id)
        .where(SupplyRequest.depot_id == depot.id)
        .order_by(SupplyRequest.created_at.desc()).limit(50)).all()
    return [{"id": r.id, "item": i, "quantity": r.quantity, "state": STATE_LABELS[r.state],
             "state_code": r.state, "approved": r.approved_quantity,
             "reason": r.decision_reason, "priority": PRIORITY_LABELS[r.priority],
             "needed_by": r.needed_by} for r, i in rows]


@router.get("/depots/{depot_id}")
def depot_home(depot_id: uuid.UUID, request: Request, session: SessionDep,
               principal: CurrentPrincipal) -> Response:
    """A depot: what is on the way, what is on the shelf, and (for requesters) my requests."""
    depot = depot_for(session, principal, depot_id)
    manages = authz.can_manage(principal, depot)
    return render(request, "supplies/depot.html", {
        "depot": depot, "kind": KIND_LABELS.get(depot.kind, ""), "manages": manages,
        "requests_here": may_request(depot) and authz.can_request(principal, depot),
        "incoming": incoming(session, depot), "stock": _stock(session, depot),
        "requests": _requests(session, depot), "transfer_states": TRANSFER_LABELS})


# --- receive a delivery from a supplier ---------------------------------------------------

def _receipt_page(request: Request, session: Session, depot: Depot, values: dict[str, Any],
                  errors: dict[str, str], message: str | None = None,
                  status_code: int = 200) -> Response:
    items = item_choices(session)
    return render(request, "supplies/receive.html", {
        "depot": depot, "items": items, "lots": lots_of(session, [i.id for i in items]),
        "values": values, "errors": errors, "message": message}, status_code=status_code)


@router.get("/depots/{depot_id}/receive")
def receive_form(depot_id: uuid.UUID, request: Request, session: SessionDep,
                 principal: CurrentPrincipal) -> Response:
    """Receive a supplier's delivery: item, lot (pick, or type/scan a new one), quantity."""
    depot = depot_for(session, principal, depot_id, manage=True)
    return _receipt_page(request, session, depot, {"form_id": str(uuid7())}, {})


def _lot_of_receipt(session: Session, data: Receipt) -> tuple[str, Any]:
    """The lot number and expiry of a delivery: a known lot picked, or a new one typed."""
    if data.lot_id is not None:
        lot = session.get(SupplyLot, data.lot_id)
        if lot is None or lot.item_id != data.item_id:
            raise ValidationFailed("This lot is not a lot of the chosen item.",
                                   fields={"lot_id": N_("Not a lot of this item.")})
        return lot.lot_number, lot.expires_on
    missing = {}
    if not data.lot_number:
        missing["lot_number"] = N_("Pick a lot or type its number.")
    if data.expires_on is None:
        missing["expires_on"] = N_("Enter the expiry date printed on the lot.")
    if missing:
        raise ValidationFailed("Give the lot: pick a known one, or its number and expiry.",
                               fields=missing)
    return data.lot_number or "", data.expires_on


@router.post("/depots/{depot_id}/receive")
def receive(depot_id: uuid.UUID, request: Request, session: SessionDep,
            principal: CurrentPrincipal, form: Annotated[ReceiptForm, Form()]) -> Response:
    """Book the delivery in; the form again with what to fix."""
    depot = depot_for(session, principal, depot_id, manage=True)

    def save(data: Receipt) -> Response:
        earlier = submissions.claim(session, data.form_id, "receipt")
        if earlier:
            return _done(earlier)
        lot_number, expires_on = _lot_of_receipt(session, data)
        service.receive(session=session, actor=principal, depot_id=depot.id,
                        item_id=data.item_id, lot_number=lot_number, expires_on=expires_on,
                        quantity=data.quantity, supplier=data.supplier)
        return _done(submissions.done(session, data.form_id,
                                      f"/supplies/depots/{depot.id}?done=received"))

    return forms.submit(session, form, save, lambda f: _receipt_page(
        request, session, depot, f.values, f.errors_or_message, f.message, f.status))


# --- receive an incoming transfer ---------------------------------------------------------

def _transfer_for(session: Session, principal: Principal, transfer_id: uuid.UUID
                  ) -> tuple[SupplyTransfer, Depot]:
    require_supplies_user(principal)  # a resident: 403, whatever the id
    t = session.get(SupplyTransfer, transfer_id)
    if t is None:
        raise NotFound("No such transfer.")
    return t, depot_for(session, principal, t.to_depot_id, manage=True,
                        missing=N_("No such transfer."))


def _transfer_page(request: Request, session: Session, t: SupplyTransfer, depot: Depot,
                   values: dict[str, Any], errors: dict[str, str],
                   message: str | None = None, status_code: int = 200) -> Response:
    lot = session.get(SupplyLot, t.lot_id)
    return render(request, "supplies/receive_transfer.html", {
        "t": t, "depot": depot, "item": service.get_item(session, t.item_id), "lot": lot,
        "source": service.get_depot(session, t.from_depot_id),
        "values": values, "errors": errors, "message": message}, status_code=status_code)


@router.get("/transfers/{transfer_id}/receive")
def receive_transfer_form(transfer_id: uuid.UUID, request: Request, session: SessionDep,
                          principal: CurrentPrincipal) -> Response:
    """An incoming transfer: what was sent, prefilled; the receiver enters what arrived."""
    t, depot = _transfer_for(session, principal, transfer_id)
    return _transfer_page(request, session, t, depot,
                          {"form_id": str(uuid7()), "received_quantity": str(t.quantity)}, {})


@router.post("/transfers/{transfer_id}/receive")
def receive_transfer(transfer_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: CurrentPrincipal,
                     form: Annotated[TransferReceiptForm, Form()]) -> Response:
    """Book the transfer in; a shortfall is kept as the discrepancy."""
    t, depot = _transfer_for(session, principal, transfer_id)

    def save(data: TransferReceipt) -> Response:
        earlier = submissions.claim(session, data.form_id, "transfer_receipt")
        if earlier:
            return _done(earlier)
        service.receive_transfer(session=session, actor=principal, transfer_id=t.id,
                                 received_quantity=data.received_quantity)
        return _done(submissions.done(session, data.form_id,
                                      f"/supplies/depots/{depot.id}?done=transfer"))

    return forms.submit(session, form, save, lambda f: _transfer_page(
        request, session, t, depot, f.values, f.errors_or_message, f.message, f.status))


# --- issue --------------------------------------------------------------------------------

def _issue_page(request: Request, session: Session, depot: Depot, values: dict[str, Any],
                errors: dict[str, str], message: str | None = None, status_code: int = 200,
                picks: list[service.Pick] | None = None) -> Response:
    return render(request, "supplies/issue.html", {
        "depot": depot, "items": item_choices(session), "values": values, "errors": errors,
        "message": message, "picks": picks}, status_code=status_code)


@router.get("/depots/{depot_id}/issue")
def issue_form(depot_id: uuid.UUID, request: Request, session: SessionDep,
               principal: CurrentPrincipal) -> Response:
    """Issue stock: item and quantity; the lots it takes are shown before confirming."""
    depot = depot_for(session, principal, depot_id, manage=True)
    return _issue_page(request, session, depot, {"form_id": str(uuid7())}, {})


@router.post("/depots/{depot_id}/issue")
def issue(depot_id: uuid.UUID, request: Request, session: SessionDep,
          principal: CurrentPrincipal, form: Annotated[IssueForm, Form()]) -> Response:
    """First press: show the earliest-expiring lots it takes. Confirm: issue them."""
    depot = depot_for(session, principal, depot_id, manage=True)

    def save(data: Issue) -> Response:
        if not data.confirm:
            service.get_item(session, data.item_id)
            picks = _fefo(session, depot, data)
            return _issue_page(request, session, depot, {**form.model_dump(), "confirm": ""},
                               {}, picks=picks)
        earlier = submissions.claim(session, data.form_id, "issue")
        if earlier:
            return _done(earlier)
        _fefo(session, depot, data)  # "not enough stock" on the quantity field
        service.issue(session=session, actor=principal, depot_id=depot.id,
                      item_id=data.item_id, quantity=data.quantity, consumer=data.consumer)
        return _done(submissions.done(session, data.form_id,
                                      f"/supplies/depots/{depot.id}?done=issued"))

    return forms.submit(session, form, save, lambda f: _issue_page(
        request, session, depot, {**f.values, "confirm": ""}, f.errors_or_message,
        f.message, f.status))


def _fefo(session: Session, depot: Depot, data: Issue) -> list[service.Pick]:
    """The lots an issue takes; too little stock is a message on the quantity field."""
    try:
        return service.fefo(session, depot_id=depot.id, item_id=data.item_id,
                            quantity=data.quantity)
    except InvalidState as exc:
        raise ValidationFailed(
            "Not enough stock: %(available)s left at this depot.",
            fields={"quantity": N_("Not enough stock here for this quantity.")},
            available=exc.params.get("available", 0)) from exc


# --- count --------------------------------------------------------------------------------

def _count_page(request: Request, session: Session, depot: Depot,
                failed: forms.Failure | None = None) -> Response:
    rows = _stock(session, depot)
    fresh = [{**r, "form_id": str(uuid7())} for r in rows]
    if failed is not None:  # the lot whose count was refused keeps what was typed
        for r in fresh:
            if str(r["lot_id"]) == failed.values.get("lot_id"):
                r.update(values=failed.values, errors=failed.errors_or_message)
    return render(request, "supplies/count.html", {
        "depot": depot, "rows": fresh, "message": failed.message if failed else None},
        status_code=failed.status if failed else 200)


@router.get("/depots/{depot_id}/count")
def count_form(depot_id: uuid.UUID, request: Request, session: SessionDep,
               principal: CurrentPrincipal) -> Response:
    """Count the shelf: each lot's recorded quantity, and a box for what is there."""
    depot = depot_for(session, principal, depot_id, manage=True)
    return _count_page(request, session, depot)


@router.post("/depots/{depot_id}/count")
def count(depot_id: uuid.UUID, request: Request, session: SessionDep,
          principal: CurrentPrincipal, form: Annotated[CountForm, Form()]) -> Response:
    """Book one lot's count: the difference is an adjustment with its reason."""
    depot = depot_for(session, principal, depot_id, manage=True)

    def save(data: Count) -> Response:
        earlier = submissions.claim(session, data.form_id, "count")
        if earlier:
            return _done(earlier)
        lot = session.get(SupplyLot, data.lot_id)
        kept_here = session.scalar(select(StockBalance.id).where(
            StockBalance.depot_id == depot.id, StockBalance.lot_id == data.lot_id))
        if lot is None or kept_here is None:  # a count corrects lots this depot holds
            raise ValidationFailed("No such lot of this item.",
                                   fields={"lot_id": N_("Unknown.")})
        # Read under the balance lock, so the "differs, give a reason" check and the
        # adjustment see the same quantity (adjust re-reads it under the same lock).
        recorded = ledger.locked_balance(session, depot.id, lot).quantity
        if data.counted != recorded and not data.note:
            raise ValidationFailed("The count differs from the record: say why.",
                                   fields={"note": N_("Say why the count differs.")})
        service.adjust(session=session, actor=principal, depot_id=depot.id, lot_id=lot.id,
                       reason="count", note=data.note, counted=data.counted)
        return _done(submissions.done(session, data.form_id,
                                      f"/supplies/depots/{depot.id}/count?done=counted"))

    return forms.submit(session, form, save,
                        lambda f: _count_page(request, session, depot, f))
