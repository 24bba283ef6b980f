"""Tracing's scheduled jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from datetime import timedelta

from passtrace.core.clock import local_today
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.tracing import verify


def verify_recent(rt: Runtime) -> verify.Stats:
    """Verify yesterday's and today's reports (late registrations and amendments arrive
    for a day after), replacing their findings, in one transaction."""
    today = local_today()
    stats = verify.Stats()
    for session in session_scope(rt.sessions):
        stats = verify.verify(session=session, first=today - timedelta(days=1), last=today)
    return stats
