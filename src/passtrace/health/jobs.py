"""Health status jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.health import escalation, relay, service
from passtrace.notices.service import standard_notifier


def sweep_expired(rt: Runtime) -> int:
    """Bring people.status in step for flags that ran out (one transaction)."""
    swept = 0
    for session in session_scope(rt.sessions, write=True):
        swept = service.sweep_expired(session=session)
    return swept


def escalate_appeals(rt: Runtime) -> int:
    """Escalate appeals left undecided past their deadline to the next area up."""
    moved = 0
    for session in session_scope(rt.sessions, write=True):
        moved = escalation.escalate_overdue(session=session,
                                            notifier=standard_notifier(session, rt.settings))
    return moved


def relay_status_notices(rt: Runtime) -> int:
    """Queue the webhook copy of recent status-change notices (a gateway configured)."""
    if not rt.settings.notify_webhook_url:
        return 0
    queued = 0
    for session in session_scope(rt.sessions, write=True):
        queued = relay.queue_status_notices(session=session)
    return queued
