"""The compounds' scheduled jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.communities.compounds import renewal
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime


def renew_household_passes(rt: Runtime) -> int:
    """Renew household passes ending within `household_pass_renew_days`, in short
    transactions of at most renewal.BATCH residents; returns how many were renewed."""
    total = 0
    while True:
        renewed = 0
        for session in session_scope(rt.sessions, write=True):
            renewed = renewal.renew_expiring(session=session, rt=rt,
                                             within_days=rt.settings.household_pass_renew_days)
        total += renewed
        if renewed < renewal.BATCH:
            return total
