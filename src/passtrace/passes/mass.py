"""Revoking many passes at once: past a threshold, a second official must approve (four eyes).

Up to `mass_revocation_threshold` passes, an official revokes them directly. More than
that, the first official files a request; a different official who may revoke every one
of those passes approves it (or rejects it), and only then are they revoked. The
requester cannot approve their own request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.passes import authz, coercion
from passtrace.passes import service as pass_service
from passtrace.passes.models import MassRevocation, Pass

MAX_PASSES = 5000  # one request; a larger operation is split


@dataclass(frozen=True)
class Outcome:
    """What a bulk revocation did: revoked now, or waiting for a second official."""

    revoked: int
    request: MassRevocation | None


def _passes_in_scope(session: Session, actor: Principal, ids: list[uuid.UUID]) -> list[Pass]:
    passes = list(session.scalars(select(Pass).where(Pass.id.in_(ids)).order_by(Pass.id)))
    if len(passes) != len(set(ids)) or not all(authz.can_revoke(actor, p)
                                               and not authz.is_holder(actor, p)
                                               for p in passes):
        raise Forbidden("You may not revoke every one of these passes.")
    return passes


def _revoke_all(session: Session, rt: Runtime, actor: Principal, ids: list[uuid.UUID],
                reason_code: str, reason: str) -> int:
    done = 0
    for pass_id in sorted(set(ids)):
        # Each pass is locked before it is changed (pass_service.get with for_update), so
        # an official revoking one of them at the same moment is serialized with us.
        p = pass_service.get(session=session, pass_id=pass_id, for_update=True)
        if p is None or p.status not in ("pending", "approved"):
            continue  # already revoked or decided meanwhile: nothing to undo
        pass_service.revoke_authorized(session=session, actor=actor, p=p, reason=reason,
                                       reason_code=reason_code, settings=rt.settings,
                                       coercive=True)
        done += 1
    return done


def revoke_many(*, session: Session, rt: Runtime, actor: Principal, pass_ids: list[uuid.UUID],
                reason_code: str | None, reason: str) -> Outcome:
    """Revoke the passes now, or file a request for a second official past the threshold."""
    code, text = coercion.check_reason(reason_code, reason)
    ids = sorted(set(pass_ids))
    if not ids or len(ids) > MAX_PASSES:
        raise ValidationFailed("Choose between 1 and %(max)s passes.", max=MAX_PASSES,
                               fields={"pass_ids": "Choose between 1 and %(max)s passes."})
    _passes_in_scope(session, actor, ids)
    if len(ids) <= rt.settings.mass_revocation_threshold:
        return Outcome(_revoke_all(session, rt, actor, ids, code, text), None)
    request = MassRevocation(id=uuid7(), requested_by=actor.user_id,
                             pass_ids=[str(i) for i in ids], reason_code=code, reason=text,
                             status="pending", revoked_count=0)
    session.add(request)
    session.flush()
    audit_service.record(session=session, actor=actor, action="pass.mass_revoke.request",
                         resource_type="mass_revocation", resource_id=request.id, reason=text,
                         detail={"passes": len(ids), "reason_code": code})
    return Outcome(0, request)


def get_visible(*, session: Session, actor: Principal, request_id: uuid.UUID) -> MassRevocation:
    """A request the actor may see: they filed it or may revoke all of its passes."""
    request = session.get(MassRevocation, request_id)
    if request is None:
        raise NotFound("No such request.")
    if request.requested_by != actor.user_id:
        try:
            _passes_in_scope(session, actor, [uuid.UUID(i) for i in request.pass_ids])
        except Forbidden:
            raise NotFound("No such request.") from None
    return request


def list_pending(*, session: Session, actor: Principal, limit: int = 50
                 ) -> list[MassRevocation]:
    """Pending requests the actor may decide (another official's, all passes in scope)."""
    rows = session.scalars(select(MassRevocation).where(
        MassRevocation.status == "pending", MassRevocation.requested_by != actor.user_id)
        .order_by(MassRevocation.id).limit(limit * 4))
    found = []
    for r in rows:
        try:
            _passes_in_scope(session, actor, [uuid.UUID(i) for i in r.pass_ids])
        except Forbidden:
            continue
        found.append(r)
    return found[:limit]


def decide(*, session: Session, rt: Runtime, actor: Principal, request_id: uuid.UUID,
           approve: bool) -> MassRevocation:
    """Approve (revoke the passes) or reject a request, as a second official.

    Race: two officials approving at once, or one clicking twice. The request row is
    locked and re-read before its status is checked, so the second waits (PostgreSQL) or
    is refused (SQLite), then sees it decided (409): the passes are revoked once.
    """
    get_visible(session=session, actor=actor, request_id=request_id)
    request = locked(session, MassRevocation, request_id)
    if request is None:
        raise NotFound("No such request.")
    if request.requested_by == actor.user_id:
        raise Forbidden("A second official must approve your own request.")
    if request.status != "pending":
        raise Conflict("This request was already decided.")
    ids = [uuid.UUID(i) for i in request.pass_ids]
    _passes_in_scope(session, actor, ids)
    request.status = "approved" if approve else "rejected"
    request.decided_by, request.decided_at = actor.user_id, utcnow()
    if approve:
        request.revoked_count = _revoke_all(session, rt, actor, ids, request.reason_code,
                                            request.reason)
    session.flush()
    audit_service.record(session=session, actor=actor,
                         action=f"pass.mass_revoke.{request.status}",
                         resource_type="mass_revocation", resource_id=request.id,
                         reason=request.reason, detail={"revoked": request.revoked_count})
    return request
