"""Delivery pages: the resident's parcels, the gate's hand-over form and the day's deliveries.

Forms come back with translated messages beside the fields; nothing a user types
makes a server error.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Community
from passtrace.communities.compounds.page_helpers import CODE, clean_text, compound_nav, query_day
from passtrace.communities.deliveries import service as deliveries
from passtrace.communities.deliveries.forms import DeliveryForm
from passtrace.communities.deliveries.schemas import DeliveryCreate
from passtrace.core.errors import NotFound
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)
COURIERS = ("顺丰速运", "京东物流", "中通快递", "圆通速递", "韵达快递", "申通快递", "中国邮政 EMS",
            "极兔速递", "美团外卖", "饿了么", "盒马", "叮咚买菜")
DELIVERY_FIELD_MESSAGES = {
    "temperature": N_("The temperature must be between 30.0 and 45.0 °C."),
    "site": N_("Choose the gate."),
    "id": N_("Please reload the page and try again.")}


# --- the resident: deliveries ----------------------------------------------------------------

@router.get("/community/deliveries")
def my_deliveries(request: Request, session: SessionDep,
                  principal: CurrentPrincipal) -> Response:
    """Parcels waiting for my household at the gate, and the ones collected."""
    rows = deliveries.list_mine(session=session, actor=principal)
    return render(request, "communities/deliveries/mine.html",
                  {"items": [deliveries.to_read(r) for r in rows],
                   "resident": principal.person_id is not None and bool(
                       community_service.residences_of(session=session,
                                                       person_id=principal.person_id))})


@router.post("/community/deliveries/{delivery_id}/collect")
def collect(delivery_id: uuid.UUID, session: SessionDep,
            principal: CurrentPrincipal) -> Response:
    """Mark a parcel collected."""
    deliveries.collect(session=session, actor=principal, delivery_id=delivery_id)
    return RedirectResponse("/community/deliveries", status_code=303)


# --- the gate: deliveries --------------------------------------------------------------------

def _gate_page(request: Request, session: Session, principal: Principal, code: str, *,
               site: str, day_raw: str = "", values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, message: str | None = None,
               saved: str = "", told: str = "", status_code: int = 200) -> Response:
    deliveries.require_lister(principal)  # a resident: 403, whatever the code
    if not CODE.match(code):
        raise NotFound("No such community.")
    c = deliveries.get_listable(session=session, actor=principal, code=code)
    gates = deliveries.gates_for(session=session, actor=principal, c=c)
    chosen = site if any(g.code == site for g in gates) else (
        gates[0].code if len(gates) == 1 else "")
    day, day_error = query_day(day_raw)
    _, rows = deliveries.list_for_community(session=session, actor=principal, code=c.code,
                                            day=day)
    deliveries.record_list_reads(session=session, actor=principal, rows=rows, via="gate_page")
    items = [deliveries.to_read(r) for r in rows]
    just_saved = next((i for i in items if str(i.id) == saved), None)
    return render(request, "communities/deliveries/gate.html", {
        **compound_nav(principal, c, "deliveries"), "gates": gates, "site": chosen,
        "items": items, "day": day.isoformat() if day else "", "day_error": day_error,
        "values": {"parcels": "1", "request_id": str(uuid7()), **(values or {})},
        "errors": errors or {}, "message": message, "saved": just_saved,
        "told": int(told) if told.isdigit() else None, "couriers": COURIERS,
        "waiting": sum(1 for i in items if not i.collected)}, status_code=status_code)


@router.get("/communities/{code}/deliveries")
def gate_deliveries(request: Request, code: str, session: SessionDep,
                    principal: CurrentPrincipal, site: str = "", day: str = "",
                    saved: str = "", told: str = "") -> Response:
    """The guard's quick hand-over form and the day's deliveries."""
    return _gate_page(request, session, principal, code, site=clean_text(site, 32), day_raw=day,
                      saved=clean_text(saved, 40), told=clean_text(told, 4))


@router.post("/communities/{code}/deliveries")
def register_delivery(request: Request, code: str, session: SessionDep, rt: RuntimeDep,
                      principal: CurrentPrincipal,
                      form: Annotated[DeliveryForm, Form()]) -> Response:
    """Register a hand-over, or show the form again with messages beside the fields."""
    site = clean_text(form.site, 32)

    def save(data: DeliveryCreate) -> Response:
        d, told = deliveries.register(session=session, rt=rt, actor=principal, data=data)
        c = session.get(Community, d.community_id)
        target = c.code if c is not None else code
        query = urlencode({"site": site, "saved": str(d.id), "told": told or 0})
        return RedirectResponse(f"/communities/{target}/deliveries?{query}", status_code=303)

    return forms.submit(session, form, save, lambda f: _gate_page(
        request, session, principal, code, site=site, values=f.values, errors=f.errors,
        message=f.message, status_code=f.status), messages=DELIVERY_FIELD_MESSAGES)
