"""The webhook copy of status-change notices, queued in the outbox by a job.

A status changes inside many callers' transactions (rules, cases, four-eyes, appeals,
the sweep) that carry no settings; each tells the person in-app at once
(service._tell). This job, when a gateway is configured, queues the same notice for the
webhook in the outbox under the in-app notice's own dedupe key, so a re-run (or an
overlapping window) queues nothing twice; the job runner delivers it after commit,
with retries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.core.clock import utcnow
from passtrace.health import service
from passtrace.health.models import StatusChange
from passtrace.notices.service import WebhookOutboxNotifier

# Each run looks this far back: several runs overlap, so a run that failed or a runner
# that was down for less than this loses nothing (the dedupe key absorbs the overlap).
WINDOW = timedelta(hours=6)
BATCH = 5000


def queue_status_notices(*, session: Session, now: datetime | None = None) -> int:
    """Queue the webhook copy of each recent status change a person's account hears of;
    return how many were new to the outbox."""
    since = (now or utcnow()) - WINDOW
    rows = session.execute(
        select(StatusChange.id, StatusChange.after, User.id)
        .join(User, User.person_id == StatusChange.person_id)
        .where(StatusChange.at >= since, StatusChange.before != StatusChange.after)
        .order_by(StatusChange.at).limit(BATCH)).all()
    notifier = WebhookOutboxNotifier(session)
    notifier.send_many([service.status_message(user_id, after, change_id)
                        for change_id, after, user_id in rows])
    return notifier.queued
