"""passtrace retention: what personal data is kept, and deleting what fell due."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("status")
def status() -> None:
    """Per kind: rows kept, the oldest, the configured period, when the next deletion is due."""
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.retention import service

    rt = _runtime()
    table = Table("kind", "rows kept", "oldest", "period (days)", "next deletion due",
                  title="Retention")
    for session in session_scope(rt.sessions):
        for line in service.status(session=session, settings=rt.settings):
            table.add_row(line.kind, str(line.rows),
                          line.oldest.isoformat() if line.oldest else "-",
                          str(line.period_days),
                          line.next_due.isoformat() if line.next_due else "-")
        days = service.partition_status(session=session, settings=rt.settings)
    console.print(table)
    if days:
        # PostgreSQL: registrations by day of their id; a run drops a day when it is due.
        kept = Table("partition", "day (UTC)", "rows", "dropped after",
                     title="Registration partitions")
        for part in days:
            kept.add_row(part.name, part.day.isoformat() if part.day else "default",
                         str(part.rows),
                         part.drop_due.isoformat() if part.drop_due else
                         "never (its rows are deleted in batches)")
        console.print(kept)


@app.command("run")
def run() -> None:
    """Delete everything past its retention period now (what the job runner does hourly)."""
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.retention import service

    rt = _runtime()
    for session in session_scope(rt.sessions):
        due = service.due_counts(session=session, settings=rt.settings)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console) as bar:
        task = bar.add_task("deleting", total=sum(due.values()) or 1)
        stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="cli",
                            progress=lambda kind, n: bar.update(
                                task, advance=n, description=kind.name))
        bar.update(task, completed=bar.tasks[0].total, description="done")
    for kind, n in stats.deleted.items():
        console.print(f"{kind}: {n} deleted")
    console.print(f"run {stats.run_id}: {stats.receipts} receipts in the audit log")
