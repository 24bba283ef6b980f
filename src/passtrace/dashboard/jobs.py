"""The dashboard's scheduled job (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.dashboard import rollup, staff


def fold_hours(rt: Runtime) -> int:
    """Fold the hourly registration counts and the staff counts written since the last
    run (one transaction); the delta rows folded."""
    folded = 0
    for session in session_scope(rt.sessions, write=True):
        folded = rollup.fold(session=session) + staff.fold(session)
    return folded
