"""Tell managers about overdue residents while the server runs (no cron needed)."""

from __future__ import annotations

import logging
import threading

from passtrace.communities import presence
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.notices.service import InAppNotifier

log = logging.getLogger("passtrace.communities")


def sweep_once(rt: Runtime) -> int:
    """One pass over every compound; returns how many residents were newly overdue."""
    told = 0
    for session in session_scope(rt.sessions):
        told = presence.sweep_overdue(session=session, notifier=InAppNotifier(session))
    return told


def start(rt: Runtime) -> threading.Thread | None:
    """Run sweep_once every `overdue_sweep_seconds` in a daemon thread (None if disabled).

    Several server processes may each run one: an outing is noticed once
    (overdue_noticed_at) and a notice's dedupe key is unique, so nobody is told twice.
    """
    interval = rt.settings.overdue_sweep_seconds
    if interval <= 0:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                sweep_once(rt)
            except Exception:  # noqa: BLE001 - a bad sweep must not stop the next one
                log.exception("overdue sweep failed")

    thread = threading.Thread(target=loop, name="overdue-sweeper", daemon=True)
    thread.start()
    return thread
