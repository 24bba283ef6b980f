"""passtrace lake: export the pseudonymised Parquet lake the analytics jobs read."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="The Parquet lake.", no_args_is_help=True)
err = Console(stderr=True)


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        err.print(f"[red]{flag} is a date, YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="the lake directory")],
    since: Annotated[str | None, typer.Option(help="only dates from this one on (YYYY-MM-DD)")
                     ] = None,
    workers: Annotated[int, typer.Option(min=1, max=16,
                                         help="dates exported at once (PostgreSQL)")] = 2,
) -> None:
    """Write new and changed dates of registrations, stays, reports, cases, contacts,
    sites and areas as Parquet (pseudonymised: persons are keyed hashes)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from passtrace.analytics.lake import export as lake_export
    from passtrace.analytics.lake.source import Source
    from passtrace.cli.main import _runtime

    since_day = parse_day(since, "--since")
    rt = _runtime()
    started = datetime.now()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err) as bar:
        tasks: dict[str, TaskID] = {}

        def planned(table: str, rows: int) -> None:
            tasks[table] = bar.add_task(table, total=rows)

        def advanced(table: str, rows: int) -> None:
            bar.advance(tasks[table], rows)

        summary = lake_export.export(Source(rt.engine), out, since=since_day,
                                     progress=lake_export.Progress(planned, advanced),
                                     workers=workers)
    seconds = (datetime.now() - started).total_seconds()
    for table, rows in summary.written.items():
        dates = summary.dates_written.get(table)
        removed = summary.dates_removed.get(table)
        extra = f", {len(dates)} date(s)" if dates else ""
        extra += f", {len(removed)} date(s) removed" if removed else ""
        err.print(f"{table}: {rows} rows written{extra}")
    err.print(f"[green]{summary.rows} rows in {seconds:.1f} s → {out}[/green]")
