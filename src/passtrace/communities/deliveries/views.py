"""Deliveries API: gate hand-overs, the resident's parcels, a compound's day of deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from passtrace.communities.deliveries import service as deliveries
from passtrace.communities.deliveries.schemas import DeliveryCreate, DeliveryRead
from passtrace.core.pagination import Page, paginate_items
from passtrace.core.validators import Day
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

# Mounted under /api/v1; the paths span /deliveries and /communities/{code}/deliveries.
router = APIRouter()

Code = Annotated[str, Path(pattern=r"^\d{12}$", description="the compound's code")]
QueryDay = Annotated[Day | None, Query(description="a local date; default: today")]


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


# --- deliveries ------------------------------------------------------------------------------

@router.post("/deliveries", response_model=DeliveryRead, status_code=201, tags=["deliveries"])
def register_delivery(data: DeliveryCreate, response: Response, session: SessionDep,
                      rt: RuntimeDep, principal: CurrentPrincipal) -> DeliveryRead:
    """Register parcels handed over at a gate; the flat's residents are told in the app.

    Send your own `id` to make a retry safe: it answers 200 with the first delivery.
    """
    d, told = deliveries.register(session=session, rt=rt, actor=principal, data=data)
    if told is None:  # a retry: the first delivery, nobody told again
        response.status_code = 200
    read = deliveries.to_read(deliveries.view_of(session, d))
    read.notified = told
    return read


@router.get("/deliveries/mine", response_model=Page[DeliveryRead], tags=["deliveries"])
def my_deliveries(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                  limit: Limit = DEFAULT_LIMIT) -> Page[DeliveryRead]:
    """Deliveries to your household: waiting ones first, each group latest first."""
    rows, nxt = paginate_items(
        deliveries.list_mine(session=session, actor=principal, limit=1000),
        lambda r: (r.delivery.collected_at is not None, -_us(r.delivery.created_at),
                   r.delivery.id), cursor=cursor, limit=limit)
    return Page(items=[deliveries.to_read(row) for row in rows], next=nxt)


@router.post("/deliveries/{delivery_id}/collect", response_model=DeliveryRead,
             tags=["deliveries"])
def collect_delivery(delivery_id: uuid.UUID, session: SessionDep,
                     principal: CurrentPrincipal) -> DeliveryRead:
    """Mark a delivery to your household collected (again: no change)."""
    d = deliveries.collect(session=session, actor=principal, delivery_id=delivery_id)
    return deliveries.to_read(deliveries.view_of(session, d))


@router.get("/communities/{code}/deliveries", response_model=Page[DeliveryRead],
            tags=["deliveries"])
def community_deliveries(code: Code, session: SessionDep, principal: CurrentPrincipal,
                         day: QueryDay = None, cursor: Cursor = None,
                         limit: Limit = DEFAULT_LIMIT) -> Page[DeliveryRead]:
    """One day's deliveries at the compound's gates, latest first (managers, officials,
    gate staff; residents 403). The residents of each flat shown find the read in their
    access log."""
    _, found = deliveries.list_for_community(session=session, actor=principal, code=code,
                                             day=day)
    rows, nxt = paginate_items(found, lambda r: (r.delivery.created_at, r.delivery.id),
                               cursor=cursor, limit=limit, descending=True)
    deliveries.record_list_reads(session=session, actor=principal, rows=rows, via="api")
    return Page(items=[deliveries.to_read(row) for row in rows], next=nxt)
