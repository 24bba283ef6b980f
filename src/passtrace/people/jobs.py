"""People's scheduled job (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.core.runtime import Runtime
from passtrace.people import phone_backfill

# Chunks per tick: a large back-fill spreads over ticks instead of holding the runner.
CHUNKS_PER_RUN = 20


def fill_phone_hashes(rt: Runtime) -> int:
    """Hash the phones stored before phone_hash existed; the rows filled this tick."""
    return phone_backfill.fill_all(
        sessions=rt.sessions, vault=rt.vault, max_chunks=CHUNKS_PER_RUN
    ).filled
