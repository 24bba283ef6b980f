"""Early warning's scheduled jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.notices.service import standard_notifier
from passtrace.warnings import alerts, service


def run_rules(rt: Runtime) -> service.RunStats:
    """Declared areas' scans (their parts at once, service.scan_declarations), then the
    windowed rules over yesterday and today and the officials' notices."""
    stats = service.RunStats()
    scanned = service.scan_declarations_telling(sessions=rt.sessions, settings=rt.settings)
    for session in session_scope(rt.sessions, write=True):
        stats = service.run(session=session, settings=rt.settings, scanned=scanned)
    return stats


def escalate(rt: Runtime) -> int:
    """Escalate alerts left unacknowledged past their SLA."""
    moved = 0
    for session in session_scope(rt.sessions, write=True):
        moved = alerts.escalate_overdue(session=session, settings=rt.settings,
                                        notifier=standard_notifier(session, rt.settings))
    return moved
