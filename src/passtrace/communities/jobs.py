"""The compounds' scheduled jobs (registered in passtrace.jobs.schedule)."""

from __future__ import annotations

from passtrace.communities import presence, renewal
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.notices.service import standard_notifier


def notice_overdue(rt: Runtime) -> int:
    """Tell managers (in-app, and the gateway through the outbox) about residents newly
    overdue; returns how many."""
    told = 0
    for session in session_scope(rt.sessions):
        told = presence.sweep_overdue(session=session,
                                      notifier=standard_notifier(session, rt.settings))
    return told


def renew_household_passes(rt: Runtime) -> int:
    """Renew household passes ending within `household_pass_renew_days`, in short
    transactions of at most renewal.BATCH residents; returns how many were renewed."""
    total = 0
    while True:
        renewed = 0
        for session in session_scope(rt.sessions):
            renewed = renewal.renew_expiring(session=session, rt=rt,
                                             within_days=rt.settings.household_pass_renew_days)
        total += renewed
        if renewed < renewal.BATCH:
            return total
