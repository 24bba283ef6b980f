"""passtrace reports: the reminders job and exports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="Daily trajectory reports.", no_args_is_help=True)
console = Console()


@app.command("remind")
def remind() -> None:
    """Remind everyone past today's deadline; escalate second misses (safe to re-run)."""
    from passtrace.cli.main import _domain_errors, _runtime
    from passtrace.core.db import session_scope
    from passtrace.reports import reminders

    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            stats = reminders.run(session=session, rt=rt)
    console.print(f"enterprises past deadline: {stats.enterprises}, overdue: {stats.overdue}, "
                  f"reminded: {stats.reminded}, escalated: {stats.escalated}, "
                  f"already sent: {stats.skipped_already_sent}, "
                  f"queued for the gateway: {stats.queued} (the job runner sends them)")


@app.command("export")
def export(
    enterprise: Annotated[str, typer.Option(help="unified social credit code")],
    start: Annotated[str, typer.Option("--from", help="first date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="last date, YYYY-MM-DD")],
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
) -> None:
    """Export an enterprise's reports with their stops (audited as a system export)."""
    from sqlalchemy import func, select

    from passtrace.audit import service as audit_service
    from passtrace.cli.files import os_user, private_file
    from passtrace.cli.main import _domain_errors, _runtime
    from passtrace.core.db import session_scope
    from passtrace.core.export import csv_batched_chunks, xlsx_chunks
    from passtrace.enterprises.models import Enterprise
    from passtrace.reports import export as export_service
    from passtrace.reports.models import DailyReport, ReportStop

    if fmt not in ("csv", "xlsx"):
        console.print("[red]--format is csv or xlsx[/red]")
        raise typer.Exit(2)
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        console.print("[red]dates are YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    rt = _runtime()
    with _domain_errors():
        export_service.check_range(first, last)
        for session in session_scope(rt.sessions):
            ent = session.scalars(select(Enterprise).where(
                Enterprise.credit_code == enterprise)).first()
            if ent is None:
                console.print(f"[red]no enterprise {enterprise}[/red]")
                raise typer.Exit(1)
            where = (DailyReport.enterprise_id == ent.id, DailyReport.report_date >= first,
                     DailyReport.report_date <= last)
            reports = session.scalar(select(func.count()).select_from(DailyReport)
                                     .where(*where)) or 0
            stops = session.scalar(select(func.count()).select_from(ReportStop).join(
                DailyReport, DailyReport.id == ReportStop.report_id).where(*where)) or 0
            empty = session.scalar(select(func.count()).select_from(DailyReport).where(
                *where, ~select(ReportStop.seq).where(
                    ReportStop.report_id == DailyReport.id).exists())) or 0
            # No login runs the CLI: the OS account that ran it is who exported.
            audit_service.record(session=session, actor=None, action="report.export",
                                 resource_type="enterprise", resource_id=ent.id,
                                 detail={"from": start, "to": end, "format": fmt,
                                         "via": "cli", "file": str(output),
                                         "os_user": os_user()})
            audit_service.record_reads(
                session=session, actor=None, action="report.export", resource_type="employee",
                people=export_service.exported_people(session=session, enterprise=ent,
                                                      start=first, end=last),
                detail={"via": "cli", "from": start, "to": end, "os_user": os_user()})
            total = stops + empty

            def advance(n: int) -> None:
                progress.advance(task, n)  # noqa: B023 - called only inside this iteration

            with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as progress:
                task = progress.add_task("rows", total=total)
                batches = export_service.batches(session=session, enterprise=ent,
                                                 start=first, end=last, progress=advance)
                header = export_service.header()
                chunks = (xlsx_chunks(header, (r for b in batches for r in b),
                                      title=f"{first}_{last}") if fmt == "xlsx"
                          else csv_batched_chunks(header, batches))
                with private_file(output) as fh:
                    for chunk in chunks:
                        fh.write(chunk)
    console.print(f"[green]{total} rows ({reports} reports) -> {output}[/green]")
