"""The audit job (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.audit import lanes
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime


def anchor_lanes(rt: Runtime) -> str:
    """Record the side lanes' heads on the main chain (audit/lanes.py), in a transaction
    of its own; a summary."""
    listed = 0
    for session in session_scope(rt.sessions, write=True):
        listed = lanes.anchor(session)
    return f"{listed} audit lanes anchored"
