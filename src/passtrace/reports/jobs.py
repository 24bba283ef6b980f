"""The daily reports' scheduled jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.reports import reminders


def remind(rt: Runtime) -> reminders.RunStats:
    """Remind staff past today's deadline and escalate repeat misses (one transaction)."""
    stats = reminders.RunStats()
    for session in session_scope(rt.sessions, write=True):
        stats = reminders.run(session=session, rt=rt)
    return stats
