"""Supplies API (/api/v1/supplies/...): catalogue, depots, movements, requests,
allocation and shortages. Every list pages `{items, next}`."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import or_, select

from passtrace.core.errors import Forbidden
from passtrace.core.export import spooled
from passtrace.core.i18n import N_
from passtrace.core.imports import import_report
from passtrace.core.pagination import Page, paginate_items, paginate_query
from passtrace.core.validators import Day
from passtrace.notices.service import standard_notifier
from passtrace.supplies import allocation, authz, cover, requests, service, stock
from passtrace.supplies import export as exports
from passtrace.supplies import forecast as forecasting
from passtrace.supplies import imports as supply_imports
from passtrace.supplies.models import (
    Depot,
    ForecastRate,
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
    Driver,
    ForecastRead,
    IssueIn,
    ItemCreate,
    ItemRead,
    MovementRead,
    RateIn,
    RateRead,
    ReceiptIn,
    RequestCreate,
    RequestRead,
    StockLineRead,
    StockRead,
    SupplyImportReport,
    TermRead,
    TransferIn,
    TransferRead,
    TransferReceiveIn,
)
from passtrace.web import imports as web_imports
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import files
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/supplies", tags=["supplies"])
AreaQuery = Annotated[str | None, Query(min_length=2, max_length=12, pattern=r"^\d+$")]


def _item(i: SupplyItem) -> ItemRead:
    return ItemRead.model_validate(i, from_attributes=True)


def _depot(d: Depot) -> DepotRead:
    return DepotRead.model_validate(d, from_attributes=True)


def _request(r: SupplyRequest | requests.RequestRow) -> RequestRead:
    return RequestRead.model_validate(r, from_attributes=True)


def _movement(e: LedgerEntry) -> MovementRead:
    return MovementRead.model_validate(e, from_attributes=True)


def _transfer(t: SupplyTransfer) -> TransferRead:
    return TransferRead.model_validate(t, from_attributes=True)


@router.get("/items", response_model=Page[ItemRead])
def list_items(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
               limit: Limit = DEFAULT_LIMIT) -> Page[ItemRead]:
    """The catalogue, by name."""
    authz.require_supplies_user(principal)
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
    authz.require_supplies_user(principal)
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
    authz.require_supplies_user(principal)
    depot = service.get_depot(session, depot_id)
    if not authz.sees(principal, depot):
        authz.refuse(principal, depot, N_("You may not see this depot's stock."))
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
    authz.require_supplies_user(principal)
    return _movement(service.receive(session=session, actor=principal, depot_id=depot_id,
                                     **data.model_dump()))


@router.post("/depots/{depot_id}/issues", response_model=list[MovementRead], status_code=201)
def issue(depot_id: uuid.UUID, data: IssueIn, session: SessionDep,
          principal: CurrentPrincipal) -> list[MovementRead]:
    """Hand stock out: the named lot, or earliest expiry first."""
    authz.require_supplies_user(principal)
    # On PostgreSQL the everyday issue is served by issue_fast.LeanIssue, matched ahead
    # of the routers; this route documents the endpoint and serves everything else.
    return [_movement(e) for e in service.issue(session=session, actor=principal,
                                                depot_id=depot_id, **data.model_dump())]


@router.post("/depots/{depot_id}/transfers", response_model=list[TransferRead],
             status_code=201)
def transfer(depot_id: uuid.UUID, data: TransferIn, session: SessionDep,
             principal: CurrentPrincipal) -> list[TransferRead]:
    """Send stock to another depot (in transit until received)."""
    authz.require_supplies_user(principal)
    return [_transfer(t) for t in service.transfer(session=session, actor=principal,
                                                   from_depot_id=depot_id,
                                                   **data.model_dump())]


@router.post("/depots/{depot_id}/adjustments", response_model=MovementRead | None)
def adjust(depot_id: uuid.UUID, data: AdjustmentIn, session: SessionDep,
           principal: CurrentPrincipal) -> MovementRead | None:
    """A count, or units written off as damaged or expired (null: the count agreed)."""
    authz.require_supplies_user(principal)
    entry = service.adjust(session=session, actor=principal, depot_id=depot_id,
                           **data.model_dump())
    return _movement(entry) if entry else None


@router.post("/transfers/{transfer_id}/receive", response_model=TransferRead)
def receive_transfer(transfer_id: uuid.UUID, data: TransferReceiveIn, session: SessionDep,
                     principal: CurrentPrincipal) -> TransferRead:
    """Count what arrived; a shortfall is kept as the discrepancy."""
    authz.require_supplies_user(principal)
    return _transfer(service.receive_transfer(session=session, actor=principal,
                                              transfer_id=transfer_id,
                                              received_quantity=data.received_quantity))


@router.post("/requests", response_model=RequestRead, status_code=201)
def file_request(data: RequestCreate, session: SessionDep,
                 principal: CurrentPrincipal) -> RequestRead:
    """Ask for supplies for a checkpoint, community, hospital or enterprise."""
    authz.require_supplies_user(principal)
    return _request(requests.file_request(session=session, actor=principal,
                                          **data.model_dump()))


@router.get("/requests", response_model=Page[RequestRead])
def list_requests(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                  limit: Limit = DEFAULT_LIMIT) -> Page[RequestRead]:
    """Requests you filed or may decide, most urgent first, then oldest."""
    authz.require_supplies_user(principal)
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
    authz.require_supplies_user(principal)
    return _request(requests.decide(session=session, actor=principal, request_id=request_id,
                                    approved_quantity=data.approved_quantity,
                                    reason=data.reason,
                                    notifier=standard_notifier(session, rt.settings)))


def allocation_json(available: int, plan: list[tuple[requests.RequestRow, allocation.Share]]
                    ) -> bytes:
    """AllocationRead(...).model_dump_json(), byte for byte, without building the models.

    A city's plan lists 10,000 shares: a pydantic model each (and FastAPI checking the
    answer against the response model and encoding it again) cost a sixth of a
    commit's Python. tests/supplies/test_allocation_json.py compares the two.
    """
    return orjson.dumps({"available": available, "shares": [
        {"request": {"id": r.id, "depot_id": r.depot_id, "item_id": r.item_id,
                     "quantity": r.quantity, "priority": r.priority, "needed_by": r.needed_by,
                     "justification": r.justification, "state": r.state,
                     "approved_quantity": r.approved_quantity,
                     "decision_reason": r.decision_reason},
         "quantity": s.quantity, "explanation": allocation.explain(s)} for r, s in plan]})


def _allocation_response(available: int,
                         plan: list[tuple[requests.RequestRow, allocation.Share]],
                         status_code: int = 200) -> Response:
    return Response(allocation_json(available, plan), media_type="application/json",
                    status_code=status_code)


@router.get("/depots/{warehouse_id}/allocations/{item_id}", response_model=AllocationRead)
def preview_allocation(warehouse_id: uuid.UUID, item_id: uuid.UUID, session: SessionDep,
                       principal: CurrentPrincipal) -> Response:
    """How the warehouse's stock of an item would be shared among open requests."""
    authz.require_supplies_user(principal)
    return _allocation_response(*allocation.preview(
        session=session, actor=principal, warehouse_id=warehouse_id, item_id=item_id))


@router.post("/depots/{warehouse_id}/allocations/{item_id}", response_model=AllocationRead,
             status_code=201)
def commit_allocation(warehouse_id: uuid.UUID, item_id: uuid.UUID, session: SessionDep,
                      rt: RuntimeDep, principal: CurrentPrincipal) -> Response:
    """Decide the open requests with their shares and send the transfers."""
    authz.require_supplies_user(principal)
    return _allocation_response(*allocation.commit(
        session=session, actor=principal, warehouse_id=warehouse_id, item_id=item_id,
        notifier=standard_notifier(session, rt.settings)), status_code=201)


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
    return Page(items=[_cover(c) for c in page], next=nxt)


def _cover(c: cover.Cover) -> CoverRead:
    return CoverRead(depot_id=c.depot_id, depot_name=c.depot_name, item_id=c.item_id,
                     item_name=c.item_name, on_hand=c.on_hand, daily_use=c.daily_use,
                     days_of_cover=c.days_of_cover, threshold_days=c.threshold_days,
                     forecast_need=c.forecast_need, basis=c.basis, explanation=c.explain())


def _rate(r: ForecastRate) -> RateRead:
    return RateRead.model_validate(r, from_attributes=True)


@router.get("/items/{item_id}/rates", response_model=Page[RateRead])
def list_rates(item_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
               cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[RateRead]:
    """The item's forecast rates, one per driver that has one."""
    authz.require_supplies_user(principal)
    item = service.get_item(session, item_id)
    rows = forecasting.rates_of(session, [item.id]).get(item.id, [])
    page, nxt = paginate_items(rows, lambda r: (r.driver, r.id), cursor=cursor, limit=limit)
    return Page(items=[_rate(r) for r in page], next=nxt)


@router.put("/items/{item_id}/rates/{driver}", response_model=RateRead)
def set_rate(item_id: uuid.UUID, driver: Driver, data: RateIn, session: SessionDep,
             principal: CurrentPrincipal) -> RateRead:
    """Set how much of the item one unit of a driver uses (supplies officers; audited)."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may change forecast rates.")
    return _rate(forecasting.set_rate(session=session, actor=principal,
                                      item=service.get_item(session, item_id), driver=driver,
                                      rate=data.rate, periods_per_day=data.periods_per_day))


@router.get("/depots/{depot_id}/forecast/{item_id}", response_model=ForecastRead)
def depot_forecast(depot_id: uuid.UUID, item_id: uuid.UUID, session: SessionDep,
                   principal: CurrentPrincipal) -> ForecastRead:
    """Days of cover of one item at a depot, with the forecast's drivers explained."""
    authz.require_supplies_user(principal)
    depot = service.get_depot(session, depot_id)
    if not authz.sees(principal, depot):
        authz.refuse(principal, depot, N_("You may not see this depot's stock."))
    c = cover.one(session, depot=depot, item=service.get_item(session, item_id))
    terms = c.forecast.terms if c.forecast is not None else ()
    return ForecastRead(cover=_cover(c), terms=[
        TermRead(driver=t.driver, count=t.count, rate=t.rate,
                 periods_per_day=t.periods_per_day, need=t.need,
                 explanation=t.explain(c.unit)) for t in terms])



@router.post("/import/items", response_model=SupplyImportReport)
async def import_items(session: SessionDep, principal: CurrentPrincipal,
                       file: Annotated[UploadFile, File()],
                       import_valid: Annotated[bool, Form()] = False) -> SupplyImportReport:
    """Create or update catalogue items from CSV or Excel (keyed by name); report every
    refused row. All or nothing unless import_valid."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may add items.")
    data = await web_imports.upload(file)
    # The database work runs in the threadpool: a writer may wait for SQLite's write lock.
    done = await run_in_threadpool(lambda: supply_imports.import_items(
        session=session, actor=principal, data=data, filename=file.filename or "",
        apply_valid=import_valid))
    return SupplyImportReport(**import_report(done.result).model_dump(), created=done.created,
                              updated=done.updated)


@router.post("/import/stock", response_model=SupplyImportReport)
async def import_stock(session: SessionDep, principal: CurrentPrincipal,
                       file: Annotated[UploadFile, File()],
                       import_valid: Annotated[bool, Form()] = False) -> SupplyImportReport:
    """Load opening stock (depot code, item, lot, expiry, quantity) into the ledger; a row
    already loaded is skipped. All or nothing unless import_valid."""
    if not principal.has(authz.MANAGE):
        raise Forbidden("Only supplies officers may load stock.")
    data = await web_imports.upload(file)
    done = await run_in_threadpool(lambda: supply_imports.import_stock(
        session=session, actor=principal, data=data, filename=file.filename or "",
        apply_valid=import_valid))
    return SupplyImportReport(**import_report(done.result).model_dump(), units=done.units)


@router.get("/export/{report}", response_class=StreamingResponse, responses=files(
    "The ledger or the stock report as a spreadsheet.", "text/csv", exports.XLSX))
def export(report: exports.Report, session: SessionDep, principal: CurrentPrincipal,
           fmt: Annotated[exports.Format, Query(alias="format")] = "csv",
           depot: Annotated[list[str] | None, Query(max_length=50)] = None,
           since: Day | None = None, until: Day | None = None) -> StreamingResponse:
    """The ledger or the stock report of your depots as CSV or Excel (formula-safe,
    audited, streamed); `depot` narrows it to some depot codes, since/until the ledger's
    days."""
    prepared = exports.prepare(session=session, actor=principal, report=report,
                               depot_codes=depot, since=since, until=until,
                               audit_extra={"via": "api", "format": fmt})
    session.commit()  # the audit entry stands even if the download is cut off
    # Written out before the first byte goes (core/export.spooled says why).
    body = spooled(exports.chunks(fmt, prepared.header, prepared.batches(session), report))
    session.rollback()  # the reading transaction ends here, not with the download
    media = exports.XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    return StreamingResponse(body, media_type=media,
                             headers={"Content-Disposition":
                                      f'attachment; filename="supplies-{report}.{fmt}"'})
