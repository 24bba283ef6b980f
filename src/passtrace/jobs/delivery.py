"""Outbox delivery: claim in one short transaction, send outside any, record in another.

No transaction is open while a gateway is slow or down, so on SQLite the write lock is
free for gate registrations the whole time, and a crash after sending cannot roll back
the record of what was sent (it can only leave a lease to expire: at-least-once, with
an Idempotency-Key for the gateway to drop the copy).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from passtrace.core import outbox
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.jobs.channels import SENDERS, DeliveryFailed

log = logging.getLogger("passtrace.jobs")


@dataclass
class DeliveryStats:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliver_due(rt: Runtime, *, batch: int = 50) -> DeliveryStats:
    """Send every message due now, `batch` at a time, until none is left due."""
    stats = DeliveryStats()
    settings = rt.settings
    while True:
        claimed: list[outbox.Claimed] = []
        for session in session_scope(rt.sessions, write=True):
            claimed = outbox.claim_due(session=session, limit=batch,
                                       lease_s=settings.outbox_lease_s)
        if not claimed:
            return stats
        for message in claimed:
            error: DeliveryFailed | None = None
            try:
                SENDERS[message.channel](settings, message.dedupe_key, message.payload)
            except DeliveryFailed as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - a bad payload must not stop the rest
                log.exception("outbox %s: sending %s crashed", message.channel, message.id)
                error = DeliveryFailed(f"{type(exc).__name__}: {exc}", retry=False)
            for session in session_scope(rt.sessions, write=True):
                if error is None:
                    outbox.record_sent(session=session, message=message)
                    stats.sent += 1
                    continue
                gave_up = outbox.record_failure(
                    session=session, message=message, error=str(error), retry=error.retry,
                    max_attempts=settings.outbox_max_attempts,
                    backoff_s=settings.outbox_backoff_s,
                    max_backoff_s=settings.outbox_max_backoff_s)
                log.warning("outbox %s %s attempt %s: %s%s", message.channel,
                            message.dedupe_key, message.attempts, error,
                            " (given up)" if gave_up else "")
                if gave_up:
                    stats.failed += 1
                else:
                    stats.retrying += 1
        if len(claimed) < batch:
            return stats
