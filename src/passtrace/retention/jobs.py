"""The retention job (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.core.runtime import Runtime
from passtrace.retention import service


def delete_expired(rt: Runtime) -> service.RunStats:
    """Delete what is past its retention period, in batches of their own transactions."""
    return service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
