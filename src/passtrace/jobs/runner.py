"""The job runner: scheduled jobs plus outbox delivery, in one loop, in one process.

Run exactly one per deployment (`passtrace jobs run`, or the one `passtrace serve`
starts), never one per web worker. Jobs are idempotent anyway, so a second runner
(say cron's `passtrace jobs run --once` during a deploy) wastes work but does no harm,
and outbox claims are leased, so it never sends a message twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from passtrace.core.runtime import Runtime
from passtrace.jobs.delivery import deliver_due

log = logging.getLogger("passtrace.jobs")


@dataclass(frozen=True)
class Job:
    """A scheduled job: `run(rt)` does its work in its own transaction(s) and returns a
    short summary; `interval_s(settings)` says how often (0: not scheduled)."""

    name: str
    interval_s: Callable[[Runtime], float]
    run: Callable[[Runtime], object]


@dataclass
class Runner:
    """Runs due jobs, then delivers the outbox, until stopped."""

    rt: Runtime
    jobs: list[Job]
    clock: Callable[[], float] = time.monotonic
    last_run: dict[str, float] = field(default_factory=dict)

    def run_job(self, job: Job) -> None:
        """Run one job now; a failing job is logged and retried at its next interval."""
        self.last_run[job.name] = self.clock()
        try:
            result = job.run(self.rt)
            log.info("job %s: %s", job.name, result)
        except Exception:  # noqa: BLE001 - one bad job must not stop the others
            log.exception("job %s failed", job.name)

    def tick(self, *, every_job: bool = False) -> None:
        """Run the jobs whose interval has passed (all of them if `every_job`), then
        deliver what they and the web requests queued."""
        now = self.clock()
        for job in self.jobs:
            interval = job.interval_s(self.rt)
            if interval <= 0 and not every_job:
                continue
            last = self.last_run.get(job.name)
            if every_job or last is None or now - last >= interval:
                self.run_job(job)
        try:
            stats = deliver_due(self.rt)
            if stats.sent or stats.retrying or stats.failed:
                log.info("outbox: %s", stats)
        except Exception:  # noqa: BLE001 - e.g. the database restarting: try next tick
            log.exception("outbox delivery failed")

    def run_forever(self, stop: threading.Event) -> None:
        """Tick every `jobs_poll_seconds` until `stop` is set."""
        while not stop.is_set():
            self.tick()
            stop.wait(self.rt.settings.jobs_poll_seconds)


def start_thread(runner: Runner) -> tuple[threading.Thread, threading.Event]:
    """Run `runner` in a daemon thread (what `passtrace serve` does, once per process)."""
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), name="job-runner",
                              daemon=True)
    thread.start()
    return thread, stop
