"""passtrace verify: check daily reports' stops against what the sites recorded."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


@app.command("reports")
def reports(
    start: Annotated[str, typer.Option("--from", help="first report date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="last report date, YYYY-MM-DD")],
    tolerance: Annotated[int | None, typer.Option(
        "--tolerance-minutes",
        help="minutes a registration may lie outside a stop (default: each enterprise's)")]
    = None,
    fmt: Annotated[str, typer.Option("--format", help="json (JSON lines)")] = "json",
) -> None:
    """Verify the reports dated --from..--to (replacing their findings); print one finding
    per line."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import aliased

    from passtrace.audit import service as audit_service
    from passtrace.cli.files import os_user
    from passtrace.cli.main import _domain_errors, _runtime
    from passtrace.core.db import session_scope
    from passtrace.enterprises.models import Employee
    from passtrace.people.models import Person
    from passtrace.registrations.models import Registration
    from passtrace.reports.models import DailyReport
    from passtrace.tracing import verify
    from passtrace.tracing.models import ReportFinding

    if fmt != "json":
        console.print("[red]--format is json[/red]")
        raise typer.Exit(2)
    try:
        first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
    except ValueError:
        console.print("[red]dates are YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    rt = _runtime()
    reg = aliased(Registration)
    with _domain_errors():
        for session in session_scope(rt.sessions):
            total = verify.count_reports(session, first, last)
        # In parts at once, each committed on its own (verify.verify_in_parts); then read.
        # The bar on stderr, like every message here: stdout carries only the findings.
        with Progress(TextColumn("reports"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as progress:
            task = progress.add_task("verify", total=total)
            stats = verify.verify_in_parts(
                sessions=rt.sessions, first=first, last=last, tolerance=tolerance,
                progress=lambda n: progress.advance(task, n), count=total)
        for session in session_scope(rt.sessions):
            rows = session.execute(
                select(ReportFinding.finding_class, DailyReport.id, DailyReport.external_id,
                       ReportFinding.stop_seq, ReportFinding.registration_id,
                       reg.external_id, func.coalesce(Employee.person_id, Person.id))
                .join(DailyReport, DailyReport.id == ReportFinding.report_id)
                .outerjoin(Employee, Employee.id == DailyReport.employee_id)
                # An imported report has no employee: its person is found by the hash.
                .outerjoin(Person, Person.id_hash == DailyReport.person_hash)
                .outerjoin(reg, reg.id == ReportFinding.registration_id)
                .where(DailyReport.report_date >= first, DailyReport.report_date <= last)
                .order_by(DailyReport.report_date, DailyReport.id, ReportFinding.stop_seq,
                          ReportFinding.finding_class, ReportFinding.id))
            lines: list[str] = []
            shown: list[tuple[object, uuid.UUID | None]] = []
            for cls, rid, rext, seq, reg_id, reg_ext, person_id in rows:
                line: dict[str, object] = {"class": cls, "report": rext or str(rid)}
                if seq is not None:
                    line["stop_index"] = seq
                if reg_id is not None:
                    line["registration"] = reg_ext or str(reg_id)
                lines.append(json.dumps(line, ensure_ascii=False))
                shown.append((rid, person_id))
            # Each person whose findings are printed finds the read in their access log
            # (like the verification pages); no login runs the CLI: the OS account did.
            audit_service.record_reads(
                session=session, actor=None, action="report.findings.view",
                resource_type="daily_report", people=shown,
                detail={"via": "cli", "os_user": os_user(), "from": first.isoformat(),
                        "to": last.isoformat()})
    # Printed once the entries are committed: nothing is shown that the log lacks.
    for text in lines:
        typer.echo(text)
    console.print(f"reports verified: {stats.reports}, findings: {stats.findings}")
