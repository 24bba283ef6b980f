"""passtrace jobs: the one job runner (scheduled jobs and outbox delivery)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("run")
def run(
    once: Annotated[bool, typer.Option(
        "--once", help="run every job once, deliver what is due, and exit (for cron)")]
    = False,
) -> None:
    """Run scheduled jobs and deliver the outbox; loops until SIGTERM/Ctrl-C."""
    from passtrace.cli.main import _runtime
    from passtrace.jobs.runner import Runner
    from passtrace.jobs.schedule import scheduled_jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runner = Runner(_runtime(), scheduled_jobs())
    if once:
        runner.tick(every_job=True)
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    console.print("job runner: " + ", ".join(j.name for j in runner.jobs) + " + outbox")
    runner.run_forever(stop)


@app.command("status")
def status() -> None:
    """Outbox messages pending, retrying, sent and given up on, and the last errors."""
    from sqlalchemy import select

    from passtrace.cli.main import _runtime
    from passtrace.core import outbox
    from passtrace.core.db import session_scope

    rt = _runtime()
    table = Table("channel", "key", "attempts", "last error")
    for session in session_scope(rt.sessions):
        counts = outbox.counts(session=session)
        failed = session.scalars(select(outbox.OutboxMessage)
                                 .where(outbox.OutboxMessage.failed_at.is_not(None))
                                 .order_by(outbox.OutboxMessage.failed_at.desc()).limit(10))
        for m in failed:
            table.add_row(m.channel, m.dedupe_key, str(m.attempts), m.last_error or "")
    console.print(f"pending: {counts['pending']} (retrying: {counts['retrying']}), "
                  f"sent: {counts['sent']}, failed: {counts['failed']}")
    if counts["failed"]:
        console.print(table)
