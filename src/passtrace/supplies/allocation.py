"""Allocation under shortage: priority first, then in proportion to need.

Pure arithmetic (`allocate`) apart from the database (`preview`, `commit`), so the
property tests can run it on any numbers. Within one priority, each request gets
floor(need x available / total need) and the units left by rounding go one each to
the largest remainders (ties: the earlier request), so shares are whole units, add up
to exactly what is available, and differ from the exact proportion by less than one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.audit import shaped as audit_shaped
from passtrace.core.areacodes import significant_prefix
from passtrace.core.db import lock_row
from passtrace.core.errors import InvalidState
from passtrace.core.i18n import N_, gettext, lazy_gettext
from passtrace.core.security import Principal
from passtrace.notices.service import Notifier
from passtrace.supplies import authz, ledger, requests, service
from passtrace.supplies.models import PRIORITIES, Depot, StockBalance, SupplyRequest

# A priority alone in a badge, a cell or a menu reads as a label ("Critical"); inside
# explain()'s sentences it is a lowercase word ("critical requests fit in the stock").
PRIORITY_LABELS = {"critical": lazy_gettext("Critical"), "high": lazy_gettext("High"),
                   "normal": lazy_gettext("Normal")}
# The sentence words' msgids, for explain(): a commit explains every share twice (decision
# and answer), and a lazy label's str() costs twice a plain gettext.
_PRIORITY_MSGIDS = {"critical": N_("critical"), "high": N_("high"), "normal": N_("normal")}


@dataclass(frozen=True)
class Need:
    """One open request as allocation sees it (earlier requests sort first)."""

    request_id: uuid.UUID
    priority: str
    quantity: int


@dataclass(frozen=True)
class Share:
    """What one request gets, and why (an English msgid and its parameters)."""

    request_id: uuid.UUID
    quantity: int
    why: str
    params: dict[str, Any]


def allocate(available: int, needs: list[Need]) -> list[Share]:
    """Hand out `available` units: whole priorities in turn, the first short one in
    proportion (largest remainder), later priorities nothing."""
    shares: list[Share] = []
    left = max(available, 0)
    for priority in PRIORITIES:
        group = [n for n in needs if n.priority == priority]
        total = sum(n.quantity for n in group)
        if not group:
            continue
        if total <= left:
            shares += [Share(n.request_id, n.quantity, N_("In full: %(priority)s requests fit in "
                             "the stock."), {"priority": priority}) for n in group]
            left -= total
            continue
        floors = [n.quantity * left // total for n in group]
        rest = left - sum(floors)
        # Largest remainder first; sorted() is stable, so ties keep request order.
        by_remainder = sorted(range(len(group)),
                              key=lambda k: -(group[k].quantity * left % total))
        for k in by_remainder[:rest]:
            floors[k] += 1
        why = N_("%(got)s of %(asked)s: %(priority)s requests asked for %(total)s with "
                 "%(available)s left, shared in proportion to need.")
        shares += [Share(n.request_id, q, why,
                         {"got": q, "asked": n.quantity, "priority": priority,
                          "total": total, "available": left})
                   for n, q in zip(group, floors, strict=True)]
        left = 0
    return shares


def explain(share: Share) -> str:
    """A share's explanation in the current language."""
    params = dict(share.params, priority=gettext(_PRIORITY_MSGIDS[share.params["priority"]]))
    return gettext(share.why, **params)


@dataclass(frozen=True)
class Found:
    """An open request and its depot's area code and name."""

    request: requests.RequestRow
    area_code: str
    depot_name: str


def _open_requests(session: Session, warehouse: Depot, item_id: uuid.UUID, *,
                   lock: bool = False) -> list[Found]:
    """Open requests for the item from depots in the warehouse's area, oldest first, as
    plain rows (`lock`: each request row locked, so read as of the lock)."""
    stmt = (select(*requests.ROW_COLUMNS, Depot.area_code, Depot.name)
            .join(Depot, Depot.id == SupplyRequest.depot_id)
            .where(SupplyRequest.item_id == item_id, SupplyRequest.state == "open",
                   Depot.area_code.startswith(significant_prefix(warehouse.area_code)))
            .order_by(SupplyRequest.created_at, SupplyRequest.id))
    if lock:
        stmt = stmt.with_for_update(of=SupplyRequest)
    return [Found(requests.RequestRow(*row[:-2]), row[-2], row[-1])
            for row in session.execute(stmt)]


def _on_hand(session: Session, depot_id: uuid.UUID, item_id: uuid.UUID) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0))
                              .where(StockBalance.depot_id == depot_id,
                                     StockBalance.item_id == item_id)) or 0)


def _plan(available: int, open_requests: list[requests.RequestRow]
          ) -> list[tuple[requests.RequestRow, Share]]:
    shares = allocate(available, [Need(r.id, r.priority, r.quantity) for r in open_requests])
    by_id = {r.id: r for r in open_requests}
    return [(by_id[s.request_id], s) for s in shares]


def preview(*, session: Session, actor: Principal | None, warehouse_id: uuid.UUID,
            item_id: uuid.UUID) -> tuple[int, list[tuple[requests.RequestRow, Share]]]:
    """The warehouse's stock of the item and each open request's share, nothing stored."""
    warehouse = service.get_depot(session, warehouse_id)
    authz.require_manage(actor, warehouse)
    service.get_item(session, item_id)
    available = _on_hand(session, warehouse.id, item_id)
    return available, _plan(available, [f.request for f in _open_requests(session, warehouse,
                                                                            item_id)])


def _lock_warehouse(session: Session, warehouse_id: uuid.UUID) -> None:
    """Hold the warehouse row so two commits there run one after the other.

    PostgreSQL: FOR NO KEY UPDATE, not FOR UPDATE. An issue at the warehouse holds its
    balance rows and then writes its ledger entry, whose foreign key takes a KEY SHARE
    lock on this row; FOR UPDATE would block that while this commit waits for those
    balance rows: a deadlock (the race test caught it). NO KEY UPDATE still excludes a
    second commit.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Depot.id).where(Depot.id == warehouse_id)
                        .with_for_update(key_share=True))
    else:
        lock_row(session, Depot, warehouse_id)


# A decision's audit entry differs from the others of its state only in the request and
# the reason (its share's explanation).
_DECISION_SHAPES = [audit_shaped.Shape(f"supplies.request.{state}", "supply_request")
                    for state in ("approved", "partly_approved", "rejected")]
_DECISION_SHAPE = {shape.action: k for k, shape in enumerate(_DECISION_SHAPES)}


def _record_audit(session: Session, actor: Principal | None,
                  audit: list[dict[str, Any]]) -> None:
    """Write the commit's audit entries in order: the decisions (thousands, a leading
    run) from their shapes, the rest (the transfers' one entry) as record_many does.
    Hashing each decision's canonical JSON anew was a tenth of a commit's Python."""
    n = 0
    while n < len(audit) and audit[n]["action"] in _DECISION_SHAPE:
        n += 1
    decisions = audit[:n]
    audit_shaped.record_shaped(
        session=session, actor=actor, shapes=_DECISION_SHAPES,
        entries=[(_DECISION_SHAPE[e["action"]], e["resource_id"], None) for e in decisions],
        reasons=[e["reason"] for e in decisions])
    audit_service.record_many(session=session, actor=actor, entries=audit[n:])


def commit(*, session: Session, actor: Principal | None, warehouse_id: uuid.UUID,
           item_id: uuid.UUID, notifier: Notifier
           ) -> tuple[int, list[tuple[requests.RequestRow, Share]]]:
    """Decide every open request with its share and send it: one transfer per share and
    lot. Returns the stock there was and the plan, as preview() shows it.

    Two officers committing at once would both hand out the same stock: the warehouse
    row is locked first, so the second waits and then sees the requests decided. The
    open requests are locked too (an officer deciding one by hand meanwhile), and the
    warehouse's lots of the item (an issue there meanwhile). Set-based: a few statements
    however many requests (requests.decide_many, service.send_many), since a city's
    commit decides thousands. Requests whose share is zero stay open for the next
    delivery.
    """
    _lock_warehouse(session, warehouse_id)
    warehouse = service.get_depot(session, warehouse_id)
    authz.require_manage(actor, warehouse)
    service.get_item(session, item_id)
    found = _open_requests(session, warehouse, item_id, lock=True)
    held = ledger.locked_stock(session, warehouse.id, item_id)
    available = sum(b.quantity for b, _ in held)
    plan = _plan(available, [f.request for f in found])
    given = [(r, share) for r, share in plan if share.quantity]
    if not given:
        raise InvalidState("Nothing to allocate: no stock of this item, or no open request.")
    audit: list[dict[str, Any]] = []
    decided = requests.decide_many(
        session=session, actor=actor, notifier=notifier, audit=audit,
        areas={f.request.depot_id: f.area_code for f in found},
        decisions=[(r, share.quantity, explain(share)) for r, share in given])
    service.send_many(session=session, actor=actor, source=warehouse, item_id=item_id,
                      held=held, audit=audit,
                      names={f.request.depot_id: f.depot_name for f in found},
                      shipments=[(r.depot_id, share.quantity) for r, share in given])
    _record_audit(session, actor, audit)
    now_is = {r.id: r for r in decided}
    return available, [(now_is.get(r.id, r), share) for r, share in plan]
