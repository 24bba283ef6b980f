"""passtrace warnings: run the early-warning rules (for cron) and escalate overdue alerts."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


@app.command("run")
def run(
    day: Annotated[str | None, typer.Option(
        "--day", help="the local date to check, YYYY-MM-DD (default: yesterday and today)")]
    = None,
    days: Annotated[int, typer.Option("--days", min=1, max=60,
                                      help="check this many days ending at --day")] = 1,
) -> None:
    """Run every windowed rule over the day(s) (one transaction per day), scan newly
    declared risk areas, and print the new alerts per rule as JSON."""
    from passtrace.cli.main import _domain_errors, _runtime
    from passtrace.core.clock import local_today
    from passtrace.core.db import session_scope
    from passtrace.warnings import service

    if day is None:
        last, count = local_today(), max(days, 2)
    else:
        try:
            last, count = date.fromisoformat(day.strip()), days
        except ValueError:
            console.print("[red]--day is YYYY-MM-DD[/red]")
            raise typer.Exit(2) from None
    rt = _runtime()
    total: dict[str, int] = {}
    notified = scanned = flags = 0
    # The declarations first, their parts at once (as the job runner does); the first
    # day's run counts them and tells the officials of their alerts.
    with _domain_errors():
        declared: service.Scanned | None = service.scan_declarations_telling(
            sessions=rt.sessions, settings=rt.settings)
    with _domain_errors(), Progress(TextColumn("warning rules"), BarColumn(),
                                    MofNCompleteColumn(), TimeElapsedColumn(),
                                    console=console) as bar:
        task = bar.add_task("days", total=count)
        for back in range(count - 1, -1, -1):
            for session in session_scope(rt.sessions, write=True):
                stats = service.run(session=session, settings=rt.settings,
                                    days=[last - timedelta(days=back)],
                                    scanned=declared)
                declared = None
                for rule, n in stats.new.items():
                    total[rule] = total.get(rule, 0) + n
                notified += stats.notified
                scanned += stats.scanned_areas
                flags += stats.flags_raised
            bar.advance(task)
    typer.echo(json.dumps({"new": total, "total": sum(total.values()),
                           "scanned_areas": scanned, "officials_notified": notified,
                           "status_flags_raised": flags},
                          sort_keys=True))


@app.command("escalate")
def escalate() -> None:
    """Escalate alerts left unacknowledged past their SLA to the next area up."""
    from passtrace.cli.main import _runtime
    from passtrace.warnings import jobs

    typer.echo(json.dumps({"escalated": jobs.escalate(_runtime())}))
