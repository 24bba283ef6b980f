"""Reveals in clear: the purposes a reader may give, and the per-user hourly limit.

The count lives in the database (reveal_counts), one row per user and clock hour, so
every worker process shares it. A reveal past the limit is refused with 429; the one
that reaches the alert count tells the supervisors (a hook wired by passtrace.wiring).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.errors import RateLimited, ValidationFailed
from passtrace.core.i18n import N_, lazy_gettext
from passtrace.people.models import RevealCount

KEEP = timedelta(days=1)  # older windows are of no further use

# Why a reader needs a field in clear; the code is stored in the audit entry's detail.
PURPOSES = {
    "identity_check": lazy_gettext("Checking identity at a gate or office"),
    "contact_tracing": lazy_gettext("Epidemiological investigation"),
    "contact_person": lazy_gettext("Contacting the person"),
    "pass_review": lazy_gettext("Reviewing a pass or application"),
    "legal_request": lazy_gettext("A request under the law"),
    "other": lazy_gettext("Other (explain below)"),
}


def clean_reason(*, settings: Settings, purpose: str | None, reason: str) -> str:
    """Check the purpose and the text; return the text stripped, or refuse (422 by field)."""
    fields: dict[str, str] = {}
    if purpose not in PURPOSES:
        fields["purpose"] = N_("Choose the purpose of viewing this data.")
    reason = (reason or "").strip()
    if len(reason) < settings.reveal_reason_min_chars:
        fields["reason"] = N_("Describe the reason in at least %(min)s characters.")
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields,
                               min=settings.reveal_reason_min_chars)
    return reason


def _window_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def bump(*, session: Session, user_id: uuid.UUID, now: datetime | None = None) -> int:
    """Count one reveal for the user in the current hour; return the hour's count.

    Race: one user's concurrent reveals (a script in parallel, several workers) must
    not lose counts, or the limit lets a burst through. The increment is one UPDATE
    (count = count + 1, atomic in the database, no read in Python); the first reveal
    of an hour inserts, and the unique (user, window) constraint turns a concurrent
    second insert into an increment of the winner's row.
    """
    start = _window_start(now or utcnow())
    where = (RevealCount.user_id == user_id, RevealCount.window_start == start)
    for _ in range(2):
        done = session.execute(update(RevealCount).where(*where)
                               .values(count=RevealCount.count + 1))
        if done.rowcount:  # type: ignore[attr-defined]
            break
        try:
            with session.begin_nested():
                session.execute(delete(RevealCount).where(
                    RevealCount.user_id == user_id, RevealCount.window_start < start - KEEP))
                session.add(RevealCount(user_id=user_id, window_start=start, count=1))
            break
        except IntegrityError:
            continue  # a concurrent first reveal inserted the row: increment it
    return session.scalar(select(RevealCount.count).where(*where)) or 0


def check(*, session: Session, settings: Settings, user_id: uuid.UUID) -> int:
    """Count a reveal; refuse it past the hourly limit; return the hour's count."""
    count = bump(session=session, user_id=user_id)
    if count > settings.reveal_limit_per_hour:
        now = utcnow()
        wait = int((_window_start(now) + timedelta(hours=1) - now).total_seconds()) + 1
        exc = RateLimited("You have viewed too much personal data this hour (at most "
                          "%(limit)s). Please wait and try again later.",
                          limit=settings.reveal_limit_per_hour)
        exc.retry_after = wait
        raise exc
    return count
