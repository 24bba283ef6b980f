"""The outings' scheduled job (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

import time

from passtrace.communities.outings import service as outing_service
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.notices.service import standard_notifier

# Outings noticed per transaction, and the pause between two (the job runner is a thread
# of the serving process). One transaction for everything due held the noticed outings'
# rows locked until its commit, so a resident coming back through a gate (whose check
# closes that outing) waited for the whole sweep: after a restart or an outage
# thousands are due at once, and gate checks stalled for over a second. Small batches
# keep any wait to one batch and leave the gates the CPU between them.
SWEEP_BATCH = 200
SWEEP_PAUSE_S = 0.05


def notice_overdue(rt: Runtime) -> int:
    """Tell managers (in-app, and the gateway through the outbox) about residents newly
    overdue, SWEEP_BATCH at a time; returns how many."""
    told = 0
    while True:
        batch = 0
        for session in session_scope(rt.sessions, write=True):
            batch = outing_service.sweep_overdue(
                session=session, notifier=standard_notifier(session, rt.settings),
                limit=SWEEP_BATCH)
        told += batch
        if batch < SWEEP_BATCH:
            return told
        time.sleep(SWEEP_PAUSE_S)
