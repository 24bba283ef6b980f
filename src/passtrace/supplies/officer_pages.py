"""The supplies officer's pages: allocation preview and commit for a warehouse x item,
stock by item and depot (keyset pages), days of cover with its chart, expiring lots."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import local_today
from passtrace.core.i18n import N_, gettext
from passtrace.core.ids import uuid7
from passtrace.core.pagination import paginate_items
from passtrace.core.security import Principal
from passtrace.notices.service import standard_notifier
from passtrace.supplies import allocation, authz, cover, cover_history, submissions
from passtrace.supplies.forms import Commit, CommitForm
from passtrace.supplies.models import (
    Depot,
    StockBalance,
    SupplyItem,
    SupplyLot,
    SupplyRequest,
)
from passtrace.supplies.page_helpers import (
    STATE_LABELS,
    WAREHOUSE_KINDS,
    depots_in_scope,
    item_choices,
    parse_id,
    require_officer,
)
from passtrace.web import charts, forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/supplies", include_in_schema=False)
PAGE_SIZE = 50
MAX_EXPIRING_DAYS = 365


def _managed(session: Session, principal: Principal) -> dict[Any, Depot]:
    """Depots in the officer's areas."""
    return {d.id: d for d in depots_in_scope(session, principal)
            if principal.covers_area(authz.MANAGE, d.area_code)}


# --- allocation ---------------------------------------------------------------------------

def _waiting(session: Session, warehouses: list[Depot]) -> list[dict[str, Any]]:
    """Where allocating would decide something: each warehouse x item with open requests
    from its area (as allocation.preview finds them), so the officer starts from a list
    rather than from two empty drop-downs."""
    if not warehouses:
        return []
    rows = session.execute(
        select(Depot.area_code, SupplyRequest.item_id, SupplyItem.name, SupplyItem.unit,
               func.count(), func.sum(SupplyRequest.quantity))
        .join(Depot, Depot.id == SupplyRequest.depot_id)
        .join(SupplyItem, SupplyItem.id == SupplyRequest.item_id)
        .where(SupplyRequest.state == "open")
        # Only the warehouses' areas, in SQL: across a province the cap below would
        # otherwise cut this officer's rows among everyone else's, arbitrarily.
        .where(or_(*[Depot.area_code.startswith(significant_prefix(w.area_code))
                     for w in warehouses]))
        .group_by(Depot.area_code, SupplyRequest.item_id, SupplyItem.name, SupplyItem.unit)
        .order_by(Depot.area_code, SupplyItem.name, SupplyRequest.item_id)
        .limit(2000)).all()
    out: dict[tuple[Any, Any], dict[str, Any]] = {}
    for w in warehouses:
        prefix = significant_prefix(w.area_code)
        for area, item_id, name, unit, n, asked in rows:
            if not area.startswith(prefix):
                continue
            row = out.setdefault((w.id, item_id), {
                "warehouse": w.name, "item": name, "unit": unit, "requests": 0, "asked": 0,
                "url": "/supplies/allocation?" + urlencode({"warehouse": w.id,
                                                            "item": item_id})})
            row["requests"] += int(n)
            row["asked"] += int(asked or 0)
    return sorted(out.values(), key=lambda r: (r["item"], r["warehouse"]))


def _allocation_page(request: Request, session: Session, principal: Principal,
                     warehouse: str, item: str, failed: forms.Failure | None = None,
                     done: bool = False) -> Response:
    require_officer(principal)
    warehouses = [d for d in _managed(session, principal).values() if d.kind in WAREHOUSE_KINDS]
    warehouse_id, item_id = parse_id(warehouse), parse_id(item)
    chosen = next((w for w in warehouses if w.id == warehouse_id), None)
    items = item_choices(session)
    chosen_item = next((i for i in items if i.id == item_id), None)
    plan = None
    available = 0
    if chosen is not None and chosen_item is not None:
        available, shares = allocation.preview(session=session, actor=principal,
                                               warehouse_id=chosen.id, item_id=chosen_item.id)
        depots = {d.id: d for d in session.scalars(
            select(Depot).where(Depot.id.in_({r.depot_id for r, _ in shares})))}
        plan = [{"request_id": r.id, "depot": depots[r.depot_id].name, "asked": r.quantity,
                 "priority": allocation.PRIORITY_LABELS[r.priority], "share": s.quantity,
                 "why": allocation.explain(s), "state": STATE_LABELS[r.state]}
                for r, s in shares]
    return render(request, "supplies/allocation.html", {
        "waiting": _waiting(session, warehouses) if plan is None else [],
        "warehouses": warehouses, "items": items, "warehouse": chosen, "item": chosen_item,
        "available": available, "plan": plan,
        "asked": sum(p["asked"] for p in plan or []),
        "form_id": str(uuid7()), "done": done,
        "message": failed.message if failed else None},
        status_code=failed.status if failed else 200)


@router.get("/allocation")
def allocation_preview(request: Request, session: SessionDep, principal: CurrentPrincipal,
                       warehouse: str = "", item: str = "", done: str = "") -> Response:
    """Pick a warehouse and an item: each open request's share and why, before committing."""
    return _allocation_page(request, session, principal, warehouse, item, done=done == "1")


@router.post("/allocation")
def allocation_commit(request: Request, session: SessionDep, rt: RuntimeDep,
                      principal: CurrentPrincipal,
                      form: Annotated[CommitForm, Form()]) -> Response:
    """Decide the open requests with their shares and send the transfers."""
    require_officer(principal)

    def save(data: Commit) -> Response:
        earlier = submissions.claim(session, data.form_id, "allocation")
        if earlier:
            return RedirectResponse(earlier, status_code=303)
        allocation.commit(session=session, actor=principal, warehouse_id=data.warehouse_id,
                          item_id=data.item_id,
                          notifier=standard_notifier(session, rt.settings))
        query = urlencode({"warehouse": data.warehouse_id, "item": data.item_id, "done": 1})
        return RedirectResponse(submissions.done(session, data.form_id,
                                                 f"/supplies/allocation?{query}"),
                                status_code=303)

    return forms.submit(session, form, save, lambda f: _allocation_page(
        request, session, principal, form.warehouse_id, form.item_id, f))


# --- stock by item and depot --------------------------------------------------------------

@router.get("/stock")
def stock(request: Request, session: SessionDep, principal: CurrentPrincipal,
          cursor: str | None = None) -> Response:
    """What each depot in my areas holds of each item, by item then depot."""
    require_officer(principal)
    depots = _managed(session, principal)
    rows = session.execute(
        select(SupplyItem.name, SupplyItem.unit, StockBalance.depot_id,
               func.sum(StockBalance.quantity))
        .join(SupplyItem, SupplyItem.id == StockBalance.item_id)
        .where(StockBalance.depot_id.in_(list(depots)))
        .group_by(SupplyItem.name, SupplyItem.unit, StockBalance.depot_id)).all()
    listed = [{"item": name, "unit": unit, "depot": depots[d].name, "depot_id": str(d),
               "quantity": int(q)} for name, unit, d, q in rows]
    page, nxt = paginate_items(listed, lambda r: (r["item"], r["depot"], r["depot_id"]),
                               cursor=cursor, limit=PAGE_SIZE)
    return render(request, "supplies/stock.html", {
        "rows": page,
        "next_url": f"/supplies/stock?{urlencode({'cursor': nxt})}" if nxt else None,
        "first_url": "/supplies/stock" if cursor else None})


# --- days of cover ------------------------------------------------------------------------

@router.get("/cover")
def cover_page(request: Request, session: SessionDep, principal: CurrentPrincipal,
               depot: str = "", item: str = "") -> Response:
    """Days of cover per depot x item; one of them as a curve against its threshold."""
    require_officer(principal)
    depots = _managed(session, principal)
    rows = [c for c in cover.covers(session) if c.depot_id in depots]
    rows.sort(key=lambda c: (not c.short, c.days_of_cover if c.days_of_cover is not None
                             else float("inf"), c.depot_name, c.item_name))
    depot_id, item_id = parse_id(depot), parse_id(item)
    chosen = next((c for c in rows if c.depot_id == depot_id and c.item_id == item_id), None)
    if chosen is None and rows:
        chosen = rows[0]  # the shortest cover first: what an officer looks at anyway
    chart = None
    if chosen is not None:
        points = [p for p in cover_history.curve(session, depot_id=chosen.depot_id,
                                                 item_id=chosen.item_id)
                  if p.days_of_cover is not None]
        if points:
            chart = charts.line_chart(
                [p.day.strftime("%m-%d") for p in points],
                [round(p.days_of_cover or 0.0, 1) for p in points],
                title=gettext("Days of cover: %(item)s at %(depot)s",
                              item=chosen.item_name, depot=chosen.depot_name),
                y_label=gettext("Days"), reference=float(chosen.threshold_days),
                reference_label=gettext("Lead time + safety days"))
    return render(request, "supplies/cover.html", {
        "rows": rows, "chosen": chosen, "chart": chart})


# --- expiring lots ------------------------------------------------------------------------

BAD_DAYS = N_("Enter a whole number of days from 1 to %(max)s.")


def _within_days(raw: str) -> int | None:
    """The number of days typed in the filter (NFKC: full-width digits count), or None."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    n = int(text)
    return n if 1 <= n <= MAX_EXPIRING_DAYS else None


@router.get("/expiring")
def expiring(request: Request, session: SessionDep, principal: CurrentPrincipal,
             days: str = "30", cursor: str | None = None) -> Response:
    """Lots in stock in my areas that expire within the next N days, earliest first."""
    require_officer(principal)
    n = _within_days(days)
    if n is None:
        # Listing 30 days under a typed "90" would answer a question nobody asked.
        return render(request, "supplies/expiring.html", {
            "rows": [], "days": None, "typed": days, "next_url": None,
            "message": gettext(BAD_DAYS, max=MAX_EXPIRING_DAYS)}, status_code=422)
    depots = _managed(session, principal)
    rows = session.execute(
        select(StockBalance.depot_id, StockBalance.quantity, SupplyItem.name, SupplyLot)
        .join(SupplyLot, SupplyLot.id == StockBalance.lot_id)
        .join(SupplyItem, SupplyItem.id == StockBalance.item_id)
        .where(StockBalance.depot_id.in_(list(depots)), StockBalance.quantity > 0,
               SupplyLot.expires_on <= local_today() + timedelta(days=n))).all()
    listed = [{"depot": depots[d].name, "item": name, "lot": lot.lot_number,
               "expires_on": lot.expires_on, "quantity": q,
               "expired": lot.expires_on < local_today(), "key": f"{d}:{lot.id}"}
              for d, q, name, lot in rows]
    page, nxt = paginate_items(listed, lambda r: (r["expires_on"], r["key"]), cursor=cursor,
                               limit=PAGE_SIZE)
    return render(request, "supplies/expiring.html", {
        "rows": page, "days": n, "typed": str(n),
        "next_url": f"/supplies/expiring?{urlencode({'days': n, 'cursor': nxt})}"
        if nxt else None})
