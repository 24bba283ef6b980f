"""Requests for supplies: filed by a depot's staff, decided by an officer.

The requester is told the decision through the notices package (in-app, plus the
webhook gateway through the outbox when configured: nothing leaves the process here).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from passtrace.audit import service as audit_service
from passtrace.core.clock import local_today, utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.notices.service import Message, Notifier, send_all
from passtrace.supplies import authz
from passtrace.supplies.models import PRIORITIES, SupplyRequest
from passtrace.supplies.service import get_depot, get_item

REQUESTER_KINDS = ("checkpoint", "community", "hospital", "enterprise")


def file_request(*, session: Session, actor: Principal, depot_id: uuid.UUID,
                 item_id: uuid.UUID, quantity: int, priority: str, needed_by: date,
                 justification: str) -> SupplyRequest:
    """Ask for `quantity` of an item for a checkpoint, community, hospital or enterprise."""
    depot = get_depot(session, depot_id)
    if not authz.can_request(actor, depot):
        authz.refuse(actor, depot, N_("You may not request supplies for this depot."))
    if depot.kind not in REQUESTER_KINDS:
        raise ValidationFailed("Warehouses do not file requests; they allocate.",
                               fields={"depot_id": N_("Not a requesting depot.")})
    get_item(session, item_id)
    if quantity <= 0:
        raise ValidationFailed("The quantity must be a whole number above zero.",
                               fields={"quantity": N_("Must be above zero.")})
    if priority not in PRIORITIES:
        raise ValidationFailed("Unknown priority.", fields={"priority": N_("Unknown.")})
    if needed_by < local_today():
        raise ValidationFailed("The needed-by date has passed.",
                               fields={"needed_by": N_("In the past.")})
    if not justification.strip():
        raise ValidationFailed("Say why the supplies are needed.",
                               fields={"justification": N_("Required.")})
    r = SupplyRequest(depot_id=depot.id, item_id=item_id, quantity=quantity, priority=priority,
                      needed_by=needed_by, justification=justification.strip(), state="open",
                      decision_reason="", requested_by=actor.user_id)
    session.add(r)
    session.flush()
    audit_service.record(session=session, actor=actor, action="supplies.request",
                         resource_type="supply_request", resource_id=r.id)
    return r


def decide(*, session: Session, actor: Principal | None, request_id: uuid.UUID,
           approved_quantity: int, reason: str, notifier: Notifier) -> SupplyRequest:
    """Approve (all), partly approve (fewer, with a reason) or reject (none, with a reason).

    Two officers deciding one request at once: the row lock makes the second see the
    first's decision and refuse, rather than overwrite it.
    """
    r = locked(session, SupplyRequest, request_id)
    if r is None:
        raise NotFound("No such supplies request.")
    depot = get_depot(session, r.depot_id)
    authz.require_manage_area(actor, depot)
    if r.state != "open":
        raise InvalidState("This request has already been decided.")
    if not 0 <= approved_quantity <= r.quantity:
        raise ValidationFailed("Approve between none and the quantity asked for.",
                               fields={"approved_quantity": N_("Out of range.")})
    if approved_quantity < r.quantity and not reason.strip():
        raise ValidationFailed("Give a reason for approving less than was asked.",
                               fields={"reason": N_("Required.")})
    r.state = ("approved" if approved_quantity == r.quantity
               else "rejected" if approved_quantity == 0 else "partly_approved")
    r.approved_quantity, r.decision_reason = approved_quantity, reason.strip()
    r.decided_by, r.decided_at = (actor.user_id if actor else None), utcnow()
    session.flush()
    audit_service.record(session=session, actor=actor, action=f"supplies.request.{r.state}",
                         resource_type="supply_request", resource_id=r.id, reason=reason or None)
    if r.requested_by is not None:
        notifier.send(_decision_message(r, r.requested_by))
    return r


@dataclass(frozen=True)
class RequestRow:
    """A request's columns read as a plain row: an allocation reads and decides thousands
    at once, and an ORM object each (identity map, change tracking) cost more than the
    rest of the commit's Python put together. RequestRead reads it like the model."""

    id: uuid.UUID
    depot_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int
    priority: str
    needed_by: date
    justification: str
    state: str
    approved_quantity: int | None
    decision_reason: str
    requested_by: uuid.UUID | None


# RequestRow's fields in order, as columns to select.
ROW_COLUMNS = tuple(getattr(SupplyRequest, f.name) for f in fields(RequestRow))


def decide_many(*, session: Session, actor: Principal | None,
                decisions: list[tuple[RequestRow, int, str]], notifier: Notifier,
                areas: dict[uuid.UUID, str], audit: list[dict[str, Any]]) -> list[RequestRow]:
    """decide() for many requests at once (an allocation's commit): each request already
    locked by the caller and read under that lock, `areas` its depot's area code (checked
    here). The changes go out in one UPDATE and one notices batch; the audit entries are
    added to `audit` for the caller to write with its own in one statement. Returns the
    requests as decided.
    """
    now, decided_by = utcnow(), (actor.user_id if actor else None)
    decided: list[RequestRow] = []
    for r, approved, reason in decisions:
        if actor is not None and not actor.covers_area(authz.MANAGE, areas[r.depot_id]):
            raise Forbidden("You may not decide requests for this depot.")
        if r.state != "open":
            raise InvalidState("This request has already been decided.")
        if not 0 <= approved <= r.quantity or (approved < r.quantity and not reason.strip()):
            raise ValidationFailed("Approve between none and the quantity asked for.",
                                   fields={"approved_quantity": N_("Out of range.")})
        state = ("approved" if approved == r.quantity else "rejected" if approved == 0
                 else "partly_approved")
        decided.append(replace(r, state=state, approved_quantity=approved,
                               decision_reason=reason.strip()))
    _write_decisions(session, decided, decided_by, now)
    _refresh_loaded(session, decided, decided_by, now)
    audit += [{"action": f"supplies.request.{r.state}", "resource_type": "supply_request",
               "resource_id": r.id, "reason": reason or None}
              for r, (_, _, reason) in zip(decided, decisions, strict=True)]
    send_all(notifier, [_decision_message(r, r.requested_by) for r in decided
                        if r.requested_by is not None])
    return decided


def _refresh_loaded(session: Session, decided: list[RequestRow],
                    decided_by: uuid.UUID | None, now: datetime) -> None:
    """Give any of the requests this session holds as objects the decision just written
    by SQL, as stored values (not changes for a later flush to write again)."""
    by_id = {r.id: r for r in decided}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SupplyRequest) and (r := by_id.get(obj.id)) is not None:
            for key in ("state", "approved_quantity", "decision_reason"):
                set_committed_value(obj, key, getattr(r, key))
            set_committed_value(obj, "decided_by", decided_by)
            set_committed_value(obj, "decided_at", now)


def _write_decisions(session: Session, decided: list[RequestRow],
                     decided_by: uuid.UUID | None, now: datetime) -> None:
    """The decisions in one statement on PostgreSQL (an UPDATE joined to unnest()ed
    arrays), one executemany on SQLite. The rows are locked by the caller."""
    if not decided:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "UPDATE supply_requests AS r SET state = v.state, approved_quantity = v.q, "
            "decision_reason = v.reason, decided_by = :by, decided_at = :at "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:states AS text[]), CAST(:qs AS int[]), "
            "CAST(:reasons AS text[])) AS v(id, state, q, reason) WHERE r.id = v.id"),
            {"by": decided_by, "at": now, "ids": [r.id for r in decided],
             "states": [r.state for r in decided],
             "qs": [r.approved_quantity for r in decided],
             "reasons": [r.decision_reason for r in decided]})
        return
    table = cast(Table, SupplyRequest.__table__)  # Core: an executemany, not ORM bulk
    session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
        state=bindparam("state"), approved_quantity=bindparam("approved_quantity"),
        decision_reason=bindparam("decision_reason"), decided_by=decided_by, decided_at=now),
        [{"b_id": r.id, "state": r.state, "approved_quantity": r.approved_quantity,
          "decision_reason": r.decision_reason} for r in decided])


def _decision_message(r: SupplyRequest | RequestRow, user_id: uuid.UUID) -> Message:
    texts = {
        "approved": N_("Your supplies request was approved: %(approved)s of %(asked)s."),
        "partly_approved": N_("Your supplies request was partly approved: %(approved)s of "
                              "%(asked)s. Reason: %(reason)s"),
        "rejected": N_("Your supplies request was rejected. Reason: %(reason)s"),
    }
    return Message(user_id=user_id, kind="supplies.request", text=texts[r.state],
                   dedupe_key=f"supplies.request:{r.id}",
                   params={"approved": r.approved_quantity, "asked": r.quantity,
                           "reason": r.decision_reason},
                   link=f"/supplies/requests/{r.id}")
