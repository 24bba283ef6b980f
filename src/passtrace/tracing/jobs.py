"""Tracing's scheduled jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from datetime import timedelta

from passtrace.core.clock import local_today
from passtrace.core.runtime import Runtime
from passtrace.tracing import verify


def verify_recent(rt: Runtime) -> verify.Stats:
    """Verify yesterday's and today's reports (late registrations and amendments arrive
    for a day after), replacing their findings, in parts at once (verify.verify_in_parts)."""
    today = local_today()
    return verify.verify_in_parts(sessions=rt.sessions, first=today - timedelta(days=1),
                                  last=today)
