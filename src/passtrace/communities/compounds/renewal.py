"""Household passes renew themselves before they expire, while the person lives here."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.communities.compounds.models import Community, Resident
from passtrace.communities.compounds.service import sign_household_passes
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.passes.models import Pass

BATCH = 500  # residents per transaction: keeps each one short


def renew_expiring(*, session: Session, rt: Runtime, within_days: int, limit: int = BATCH,
                   now: datetime | None = None) -> int:
    """Give up to `limit` current residents whose household pass ends within
    `within_days` (or has ended) a fresh one; returns how many. Safe to re-run: a
    renewed resident's pass is the new one, far from expiry, so it is not picked again.

    A revoked pass is not renewed (revoking it was someone's decision), and a moved-out
    resident has no Resident row, so nobody outside the compound gets a pass.

    Race: two runners renewing the same resident at once would sign two passes. The
    residents are read FOR UPDATE (PostgreSQL: the second runner waits, then re-reads
    the resident's new pass and skips it); on SQLite the second writer is refused as
    busy and its transaction rolls back.
    """
    horizon = (now or utcnow()) + timedelta(days=within_days)
    due = (Pass.purpose == "household", Pass.status == "approved", Pass.valid_until <= horizon)
    ids = list(session.scalars(select(Resident.id).join(Pass, Pass.id == Resident.pass_id)
                               .where(*due).order_by(Resident.id).limit(limit)))
    if not ids:
        return 0
    locked = list(session.scalars(select(Resident).where(Resident.id.in_(ids))
                                  .order_by(Resident.id).with_for_update()
                                  .execution_options(populate_existing=True)))
    # Re-read after the lock: a concurrent runner may have renewed some meanwhile.
    old = {p.id: p for p in session.scalars(select(Pass).where(
        Pass.id.in_({r.pass_id for r in locked if r.pass_id}), *due))}
    by_community: dict[object, list[Resident]] = defaultdict(list)
    for r in locked:
        if r.pass_id in old:
            by_community[r.community_id].append(r)
    renewed = 0
    for community_id, residents in by_community.items():
        c = session.get(Community, community_id)
        assert c is not None
        previous = {r.id: old[r.pass_id] for r in residents if r.pass_id}
        created = sign_household_passes(
            session=session, rt=rt, c=c, residents=residents,
            applicants={r.id: previous[r.id].applicant_user_id for r in residents},
            decided_by=None)
        audit_service.record_many(session=session, actor=None, entries=[
            {"action": "pass.renew", "resource_type": "pass", "resource_id": p.id,
             "subject_person_id": p.person_id,
             "detail": {"purpose": "household", "community": c.code,
                        "renews": str(previous[r.id].id),
                        "previous_until": previous[r.id].valid_until.isoformat()}}
            for r, p in zip(residents, created, strict=True)])
        renewed += len(created)
    return renewed
