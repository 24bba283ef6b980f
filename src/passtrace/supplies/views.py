"""Supplies API (/api/v1/supplies/...): catalogue, depots, movements, requests,
allocation and shortages. Every list pages `{items, next}`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import or_, select

from passtrace.core.errors import Forbidden
from passtrace.core.pagination import Page, paginate_items, paginate_query
from passtrace.core.security import Principal
from passtrace.notices.service import standard_notifier
from passtrace.supplies import allocation, authz, cover, requests, service, stock
from passtrace.supplies.models import (
    Depot,
    LedgerEntry,
    SupplyItem,
    SupplyRequest,
    SupplyTransfer,
)
from passtrace.supplies.schemas import (
    AdjustmentIn,
    AllocationRead,
    CoverRead,
    DecisionIn,
    DepotCreate,
    DepotRead,
    IssueIn,
    ItemCreate,
    ItemRead,
    MovementRead,
    ReceiptIn,
    RequestCreate,
    RequestRead,
    ShareRead,
    StockLineRead,
    StockRead,
    TransferIn,
    TransferRead,
    TransferReceiveIn,
)
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/supplies", tags=["supplies"])
AreaQuery = Annotated[str | None, Query(min_length=2, max_length=12, pattern=r"^\d+$")]


def _require_any(actor: Principal) -> None:
    if not (actor.has(authz.MANAGE) or actor.has(authz.REQUEST)):
        raise Forbidden("Only supplies staff may do this.")


def _item(i: SupplyItem) -> ItemRead:
    return ItemRead.model_validate(i, from_attributes=True)


def _depot(d: Depot) -> DepotRead:
    return DepotRead.model_validate(d, from_attributes=True)


def _request(r: SupplyRequest) -> RequestRead:
    return RequestRead.model_validate(r, from_attributes=True)


def _movement(e: LedgerEntry) -> MovementRead:
    return MovementRead.model_validate(e, from_attributes=True)


def _transfer(t: SupplyTransfer) -> TransferRead:
    return TransferRead.model_validate(t, from_attributes=True)


@router.get("/items", response_model=Page[ItemRead])
def list_items(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
               limit: Limit = DEFAULT_LIMIT) -> Page[ItemRead]:
    """The catalogue, by name."""
    _require_any(principal)
    rows: list[SupplyItem]
    rows, nxt = paginate_query(session, select(SupplyItem), [SupplyItem.name, SupplyItem.id],
                               cursor=cursor, limit=limit)
    return Page(items=[_item(i) for i in rows], next=nxt)


@router.post("/items", response_model=ItemRead, status_code=201)
def create_item(data: ItemCreate, session: SessionDep, principal: CurrentPrincipal) -> ItemRead:
    """Add an item to the catalogue (supplies officers)."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may add items.")
    return _item(service.create_item(session=session, actor=principal, **data.model_dump()))


@router.get("/depots", response_model=Page[DepotRead])
def list_depots(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                limit: Limit = DEFAULT_LIMIT) -> Page[DepotRead]:
    """The depots in your scope, by code."""
    _require_any(principal)
    stmt = select(Depot)
    prefixes = principal.area_scopes(authz.REQUEST)
    if prefixes is not None:
        own = [b.scope_value for b in principal.bindings if b.scope_type == "depot"]
        stmt = stmt.where(or_(Depot.code.in_(own),
                              *[Depot.area_code.startswith(p) for p in prefixes]))
    rows: list[Depot]
    rows, nxt = paginate_query(session, stmt, [Depot.code, Depot.id], cursor=cursor,
                               limit=limit)
    return Page(items=[_depot(d) for d in rows], next=nxt)


@router.post("/depots", response_model=DepotRead, status_code=201)
def create_depot(data: DepotCreate, session: SessionDep,
                 principal: CurrentPrincipal) -> DepotRead:
    """Place a depot in the area tree (officers over that area)."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may add depots.")
    return _depot(service.create_depot(session=session, actor=principal, **data.model_dump()))


@router.get("/depots/{depot_id}/stock", response_model=Page[StockRead])
def depot_stock(depot_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[StockRead]:
    """What the depot holds, lot by lot, earliest expiry first."""
    depot = service.get_depot(session, depot_id)
    if not (authz.can_manage(principal, depot) or authz.can_request(principal, depot)):
        raise Forbidden("You may not see this depot's stock.")
    rows, nxt = stock.depot_lots(session, depot_id=depot.id, cursor=cursor, limit=limit)
    return Page(items=[StockRead(**vars(r)) for r in rows], next=nxt)


@router.get("/stock", response_model=Page[StockLineRead])
def stock_report(session: SessionDep, principal: CurrentPrincipal, item_id: uuid.UUID | None = None,
                 cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[StockLineRead]:
    """Stock by depot and item (all lots) in your scope, by depot code then item name."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may see stock reports.")
    own = [b.scope_value for b in principal.bindings if b.scope_type == "depot"]
    rows, nxt = stock.by_depot_and_item(
        session, scope=stock.scope_filter(principal.area_scopes(authz.MANAGE), own),
        item_id=item_id, cursor=cursor, limit=limit)
    return Page(items=[StockLineRead(**vars(r)) for r in rows], next=nxt)


@router.post("/depots/{depot_id}/receipts", response_model=MovementRead, status_code=201)
def receive(depot_id: uuid.UUID, data: ReceiptIn, session: SessionDep,
            principal: CurrentPrincipal) -> MovementRead:
    """A delivery from a supplier or donor arrives."""
    return _movement(service.receive(session=session, actor=principal, depot_id=depot_id,
                                     **data.model_dump()))


@router.post("/depots/{depot_id}/issues", response_model=list[MovementRead], status_code=201)
def issue(depot_id: uuid.UUID, data: IssueIn, session: SessionDep,
          principal: CurrentPrincipal) -> list[MovementRead]:
    """Hand stock out: the named lot, or earliest expiry first."""
    return [_movement(e) for e in service.issue(session=session, actor=principal,
                                                depot_id=depot_id, **data.model_dump())]


@router.post("/depots/{depot_id}/transfers", response_model=list[TransferRead],
             status_code=201)
def transfer(depot_id: uuid.UUID, data: TransferIn, session: SessionDep,
             principal: CurrentPrincipal) -> list[TransferRead]:
    """Send stock to another depot (in transit until received)."""
    return [_transfer(t) for t in service.transfer(session=session, actor=principal,
                                                   from_depot_id=depot_id,
                                                   **data.model_dump())]


@router.post("/depots/{depot_id}/adjustments", response_model=MovementRead | None)
def adjust(depot_id: uuid.UUID, data: AdjustmentIn, session: SessionDep,
           principal: CurrentPrincipal) -> MovementRead | None:
    """A count, or units written off as damaged or expired (null: the count agreed)."""
    entry = service.adjust(session=session, actor=principal, depot_id=depot_id,
                           **data.model_dump())
    return _movement(entry) if entry else None


@router.post("/transfers/{transfer_id}/receive", response_model=TransferRead)
def receive_transfer(transfer_id: uuid.UUID, data: TransferReceiveIn, session: SessionDep,
                     principal: CurrentPrincipal) -> TransferRead:
    """Count what arrived; a shortfall is kept as the discrepancy."""
    return _transfer(service.receive_transfer(session=session, actor=principal,
                                              transfer_id=transfer_id,
                                              received_quantity=data.received_quantity))


@router.post("/requests", response_model=RequestRead, status_code=201)
def file_request(data: RequestCreate, session: SessionDep,
                 principal: CurrentPrincipal) -> RequestRead:
    """Ask for supplies for a checkpoint, community, hospital or enterprise."""
    return _request(requests.file_request(session=session, actor=principal,
                                          **data.model_dump()))


@router.get("/requests", response_model=Page[RequestRead])
def list_requests(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                  limit: Limit = DEFAULT_LIMIT) -> Page[RequestRead]:
    """Requests you filed or may decide, most urgent first, then oldest."""
    _require_any(principal)
    rows = [r for r in session.scalars(select(SupplyRequest).where(SupplyRequest.state == "open")
                                       .order_by(SupplyRequest.created_at).limit(5000))
            if r.requested_by == principal.user_id
            or principal.covers_area(authz.MANAGE, service.get_depot(session, r.depot_id)
                                     .area_code)]
    rank = {"critical": 0, "high": 1, "normal": 2}
    page, nxt = paginate_items(rows, lambda r: (rank[r.priority], r.created_at, r.id),
                               cursor=cursor, limit=limit)
    return Page(items=[_request(r) for r in page], next=nxt)


@router.post("/requests/{request_id}/decision", response_model=RequestRead)
def decide(request_id: uuid.UUID, data: DecisionIn, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> RequestRead:
    """Approve, partly approve (with a reason) or reject (with a reason)."""
    return _request(requests.decide(session=session, actor=principal, request_id=request_id,
                                    approved_quantity=data.approved_quantity,
                                    reason=data.reason,
                                    notifier=standard_notifier(session, rt.settings)))


def _allocation(available: int, plan: list[tuple[SupplyRequest, allocation.Share]]
                ) -> AllocationRead:
    return AllocationRead(available=available, shares=[
        ShareRead(request=_request(r), quantity=s.quantity, explanation=allocation.explain(s))
        for r, s in plan])


@router.get("/depots/{warehouse_id}/allocations/{item_id}", response_model=AllocationRead)
def preview_allocation(warehouse_id: uuid.UUID, item_id: uuid.UUID, session: SessionDep,
                       principal: CurrentPrincipal) -> AllocationRead:
    """How the warehouse's stock of an item would be shared among open requests."""
    return _allocation(*allocation.preview(session=session, actor=principal,
                                           warehouse_id=warehouse_id, item_id=item_id))


@router.post("/depots/{warehouse_id}/allocations/{item_id}", response_model=AllocationRead,
             status_code=201)
def commit_allocation(warehouse_id: uuid.UUID, item_id: uuid.UUID, session: SessionDep,
                      rt: RuntimeDep, principal: CurrentPrincipal) -> AllocationRead:
    """Decide the open requests with their shares and send the transfers."""
    return _allocation(*allocation.commit(session=session, actor=principal,
                                          warehouse_id=warehouse_id, item_id=item_id,
                                          notifier=standard_notifier(session, rt.settings)))


@router.get("/shortages", response_model=Page[CoverRead])
def shortages(session: SessionDep, principal: CurrentPrincipal, area: AreaQuery = None,
              cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[CoverRead]:
    """Depot x items whose days of cover are below lead time + safety days."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may see shortages.")
    rows = [c for c in cover.shortages(session, area_code=area)
            if principal.covers_area(authz.MANAGE, c.area_code)]
    page, nxt = paginate_items(rows, lambda c: (c.depot_id, c.item_id), cursor=cursor,
                               limit=limit)
    return Page(items=[CoverRead(depot_id=c.depot_id, depot_name=c.depot_name,
                                 item_id=c.item_id, item_name=c.item_name, on_hand=c.on_hand,
                                 daily_use=c.daily_use, days_of_cover=c.days_of_cover,
                                 threshold_days=c.threshold_days) for c in page], next=nxt)
