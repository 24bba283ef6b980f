"""The officials' pass lists (search, filters, keyset paging) and bulk approval from the queue.

Search cannot use the holder's name: names are stored encrypted and shown masked, so a
name search would mean decrypting the whole jurisdiction. An official searches instead
by what is printed on the pass or typed at the desk: the last 4 characters of the ID
number, the plate (or part of it), or the pass id (whole, or its first 8+ hex digits).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from passtrace.core.errors import DomainError, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.search import ID_TAIL
from passtrace.core.search import QUERY_MAX as QUERY_MAX  # re-exported: pages cap raw text
from passtrace.core.search import normalize_query as normalize_query
from passtrace.core.security import Principal
from passtrace.passes import authz, keyring
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass
from passtrace.people.models import Person

# Passes compounds issue by themselves: thousands of them, never waiting for an official.
ISSUED_PURPOSES = ("household", "visitor")
MAX_BULK = 200
_HEX_PREFIX = re.compile(r"^[0-9a-f]{8,32}$")


@dataclass(frozen=True)
class ListFilter:
    """What the official asked for: status, purpose, search text, issued passes or not."""

    status: str | None = "pending"
    purpose: str | None = None
    q: str = ""
    include_issued: bool = False


def _id_range(prefix: str) -> tuple[uuid.UUID, uuid.UUID]:
    # A hex prefix of the pass id is a range of ids: it uses the primary key on both
    # databases (a LIKE on a uuid column would need a cast and a scan).
    return (uuid.UUID(hex=prefix.ljust(32, "0")), uuid.UUID(hex=prefix.ljust(32, "f")))


def _search(stmt: Select[Pass], q: str) -> Select[Pass]:
    upper = q.upper()
    hexed = q.lower().replace("-", "")
    terms = [Pass.plate.contains(upper, autoescape=True)]
    if ID_TAIL.match(upper):
        terms.append(Pass.person_id.in_(
            select(Person.id).where(Person.id_masked.endswith(upper, autoescape=True))))
    if _HEX_PREFIX.match(hexed):
        low, high = _id_range(hexed)
        terms.append(Pass.id.between(low, high))
    return stmt.where(or_(*terms))


def filtered(stmt: Select[Pass], f: ListFilter) -> Select[Pass]:
    """Apply the list's filters to a select of passes."""
    if f.status:
        stmt = stmt.where(Pass.status == f.status)
    if f.purpose:
        stmt = stmt.where(Pass.purpose == f.purpose)
    elif not f.include_issued:
        stmt = stmt.where(Pass.purpose.not_in(ISSUED_PURPOSES))
    if f.q:
        stmt = _search(stmt, f.q)
    return stmt


def list_passes(*, session: Session, actor: Principal, f: ListFilter, cursor: str | None = None,
                limit: int = 50) -> tuple[list[Pass], str | None]:
    """One page of the passes in the actor's jurisdiction that match the filter, newest first."""
    stmt = filtered(pass_service.review_scope(actor, select(Pass)), f)
    rows, nxt = pass_service.page(session, stmt, cursor, limit)
    # Only the people on this page were seen.
    pass_service.record_reads(session=session, actor=actor, passes=rows, via="review_list")
    return rows, nxt


@dataclass
class BulkResult:
    """What a bulk approval did: the approved ids and, for every other one, why not."""

    approved: list[uuid.UUID] = field(default_factory=list)
    refused: list[tuple[uuid.UUID, DomainError]] = field(default_factory=list)


def approve_many(*, session: Session, rt: Runtime, actor: Principal, pass_ids: list[uuid.UUID],
                 reason: str = "") -> BulkResult:
    """Approve each pass on its own (its own lock, audit entry, history row); report the rest.

    Race: an official approving one pass from its page while another approves a batch
    holding it. Each pass is taken with its row lock (service.approve -> FOR UPDATE on
    PostgreSQL, the single writer on SQLite), so the second to arrive sees the first's
    decision and that pass is reported as already decided, never approved twice. Ids are
    locked in sorted order so two overlapping batches cannot deadlock.
    """
    ids = sorted(dict.fromkeys(pass_ids))
    if not ids:
        raise ValidationFailed(N_("Choose at least one pass."),
                               fields={"pass_ids": N_("Choose at least one pass.")})
    if len(ids) > MAX_BULK:
        raise ValidationFailed(N_("Approve at most %(n)s passes at once."), n=MAX_BULK,
                               fields={"pass_ids": N_("Approve at most %(n)s passes at once.")})
    key = keyring.current_signer(session=session, vault=rt.vault)
    result = BulkResult()
    for pass_id in ids:
        try:
            # Every check raises before the pass changes, so a refusal leaves nothing behind.
            p = pass_service.approve(session=session, rt=rt, actor=actor, pass_id=pass_id,
                                     reason=reason, key=key)
            result.approved.append(p.id)
        except DomainError as exc:
            result.refused.append((pass_id, exc))
    return result


def is_reviewer_of_all(actor: Principal, passes: list[Pass]) -> bool:
    """Whether the actor may decide every pass listed (shows the bulk controls)."""
    return all(authz.can_review(actor, p) for p in passes)
