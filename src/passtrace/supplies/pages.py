"""The supplies officer's overview page: stock by depot and item, the requests queue,
shortages and lots expiring soon, for the depots in scope (read-only for now)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from passtrace.core.clock import local_today
from passtrace.core.errors import Forbidden
from passtrace.supplies import authz, cover
from passtrace.supplies.allocation import PRIORITY_LABELS
from passtrace.supplies.models import Depot, StockBalance, SupplyItem, SupplyLot, SupplyRequest
from passtrace.supplies.page_helpers import is_area_officer
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/supplies", include_in_schema=False)
EXPIRING_DAYS = 30


@router.get("")
def overview(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Stock, requests, shortages and expiring lots in the officer's areas."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may see shortages.")
    if not is_area_officer(principal):
        # Depot staff oversee no area: their page is their depot.
        return RedirectResponse("/supplies/depots", status_code=303)
    depots = [d for d in session.scalars(select(Depot).order_by(Depot.code).limit(500))
              if authz.can_manage(principal, d)]
    ids = [d.id for d in depots]
    names = {d.id: d.name for d in depots}
    stock = session.execute(
        select(StockBalance.depot_id, SupplyItem.name, SupplyItem.unit,
               func.sum(StockBalance.quantity))
        .join(SupplyItem, SupplyItem.id == StockBalance.item_id)
        .where(StockBalance.depot_id.in_(ids))
        .group_by(StockBalance.depot_id, SupplyItem.name, SupplyItem.unit)
        .order_by(SupplyItem.name)).all()
    soon = local_today() + timedelta(days=EXPIRING_DAYS)
    expiring = session.execute(
        select(StockBalance.depot_id, SupplyItem.name, SupplyLot.lot_number,
               SupplyLot.expires_on, StockBalance.quantity, SupplyItem.unit)
        .join(SupplyLot, SupplyLot.id == StockBalance.lot_id)
        .join(SupplyItem, SupplyItem.id == StockBalance.item_id)
        .where(StockBalance.depot_id.in_(ids), StockBalance.quantity > 0,
               SupplyLot.expires_on <= soon).order_by(SupplyLot.expires_on).limit(200)).all()
    queue = session.execute(
        select(SupplyRequest, SupplyItem.name, SupplyItem.unit)
        .join(SupplyItem, SupplyItem.id == SupplyRequest.item_id)
        .where(SupplyRequest.state == "open", SupplyRequest.depot_id.in_(ids))
        .order_by(SupplyRequest.needed_by, SupplyRequest.created_at).limit(200)).all()
    short = [c for c in cover.shortages(session) if c.depot_id in names]
    return render(request, "supplies/overview.html", {
        "stock": [{"depot": names[d], "depot_id": d, "item": i, "unit": u, "quantity": int(q)}
                  for d, i, u, q in stock],
        "expiring": [{"depot": names[d], "item": i, "lot": lot, "expires_on": e, "quantity": q,
                      "unit": u} for d, i, lot, e, q, u in expiring],
        "queue": [{"id": r.id, "depot": names[r.depot_id], "item": i, "unit": u,
                   "quantity": r.quantity, "priority": PRIORITY_LABELS[r.priority],
                   "priority_code": r.priority, "needed_by": r.needed_by,
                   "justification": r.justification} for r, i, u in queue],
        "shortages": short, "expiring_days": EXPIRING_DAYS})
