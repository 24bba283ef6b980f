"""The registrations' scheduled jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.registrations import partition_stats, partitions


def create_partitions_ahead(rt: Runtime) -> list[str]:
    """PostgreSQL: make the day partitions of registrations for today and the days ahead
    that do not exist yet (a row of a day without one waits in the default partition)."""
    return partitions.keep_ahead(rt.sessions, today=utcnow().date(),
                                 days_ahead=rt.settings.registration_partitions_ahead_days)


def analyze_partitions(rt: Runtime) -> list[str]:
    """PostgreSQL: ANALYZE the day partitions of registrations that changed enough since
    their last analysis (partition_stats.py says why a check needs it)."""
    return partition_stats.analyze_stale(rt.sessions)
