"""Requests for supplies: filed by a depot's staff, decided by an officer.

The requester is told the decision through the notices package (in-app, plus the
webhook gateway through the outbox when configured: nothing leaves the process here).
"""

from __future__ import annotations

import uuid
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
from passtrace.notices.service import Message, Notifier
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
        raise Forbidden("You may not request supplies for this depot.")
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
        raise NotFound("No such request.")
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


def decide_many(*, session: Session, actor: Principal | None,
                decisions: list[tuple[SupplyRequest, int, str]], notifier: Notifier,
                areas: dict[uuid.UUID, str], audit: list[dict[str, Any]]) -> None:
    """decide() for many requests at once (an allocation's commit): each request already
    locked by the caller and read under that lock, `areas` its depot's area code (checked
    here). The changes go out in batched UPDATEs and one notices batch; the audit
    entries are added to `audit` for the caller to write with its own in one statement.
    """
    now, decided_by = utcnow(), (actor.user_id if actor else None)
    changes: list[dict[str, Any]] = []
    for r, approved, reason in decisions:
        if actor is not None and not actor.covers_area(authz.MANAGE, areas[r.depot_id]):
            raise Forbidden("You may not decide requests for this depot.")
        if r.state != "open":
            raise InvalidState("This request has already been decided.")
        if not 0 <= approved <= r.quantity or (approved < r.quantity and not reason.strip()):
            raise ValidationFailed("Approve between none and the quantity asked for.",
                                   fields={"approved_quantity": N_("Out of range.")})
        changes.append({"b_id": r.id, "state": ("approved" if approved == r.quantity
                                                else "rejected" if approved == 0
                                                else "partly_approved"),
                        "approved_quantity": approved, "decision_reason": reason.strip()})
    _write_decisions(session, changes, decided_by, now)
    for (r, _, _), change in zip(decisions, changes, strict=True):
        # The rows are written; the loaded objects take the values as stored, not as
        # changes of their own for a later flush to write again row by row.
        for key in ("state", "approved_quantity", "decision_reason"):
            set_committed_value(r, key, change[key])
        set_committed_value(r, "decided_by", decided_by)
        set_committed_value(r, "decided_at", now)
    audit += [{"action": f"supplies.request.{r.state}", "resource_type": "supply_request",
               "resource_id": r.id, "reason": reason or None} for r, _, reason in decisions]
    messages = [_decision_message(r, r.requested_by) for r, _, _ in decisions
                if r.requested_by is not None]
    send_many = getattr(notifier, "send_many", None)
    if send_many is not None:
        send_many(messages)
    else:  # a Fanout: each of its channels gets them one by one
        for m in messages:
            notifier.send(m)


def _write_decisions(session: Session, changes: list[dict[str, Any]],
                     decided_by: uuid.UUID | None, now: datetime) -> None:
    """The decisions in one statement on PostgreSQL (an UPDATE joined to unnest()ed
    arrays), one executemany on SQLite. The rows are locked by the caller."""
    if not changes:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "UPDATE supply_requests AS r SET state = v.state, approved_quantity = v.q, "
            "decision_reason = v.reason, decided_by = :by, decided_at = :at "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:states AS text[]), CAST(:qs AS int[]), "
            "CAST(:reasons AS text[])) AS v(id, state, q, reason) WHERE r.id = v.id"),
            {"by": decided_by, "at": now, "ids": [c["b_id"] for c in changes],
             "states": [c["state"] for c in changes],
             "qs": [c["approved_quantity"] for c in changes],
             "reasons": [c["decision_reason"] for c in changes]})
        return
    table = cast(Table, SupplyRequest.__table__)  # Core: an executemany, not ORM bulk
    session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
        state=bindparam("state"), approved_quantity=bindparam("approved_quantity"),
        decision_reason=bindparam("decision_reason"), decided_by=decided_by, decided_at=now),
        changes)


def _decision_message(r: SupplyRequest, user_id: uuid.UUID) -> Message:
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
