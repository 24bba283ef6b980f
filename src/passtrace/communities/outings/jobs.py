"""The outings' scheduled job (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.communities.outings import service as outing_service
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.notices.service import standard_notifier


def notice_overdue(rt: Runtime) -> int:
    """Tell managers (in-app, and the gateway through the outbox) about residents newly
    overdue; returns how many."""
    told = 0
    for session in session_scope(rt.sessions, write=True):
        told = outing_service.sweep_overdue(session=session,
                                      notifier=standard_notifier(session, rt.settings))
    return told
