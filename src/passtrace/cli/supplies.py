"""passtrace supplies: import the item catalogue and opening stock, export the ledger and
the stock report.

Imports print the same row report as the other imports (cli/imports.py) and exit 2 with
nothing stored when rows are refused (unless --valid-rows); re-importing a file adds
nothing. Exports are formula-safe, written readable by their owner only (0600) and
audited with the OS account that ran the command.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(no_args_is_help=True)
import_app = typer.Typer(help="Load the item catalogue or opening stock from CSV/Excel.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="the .csv or .xlsx file to import")]
ActorOpt = Annotated[str | None, typer.Option(
    "--actor", help="login of the supplies officer importing; their scope applies")]
ValidRowsOpt = Annotated[bool, typer.Option(
    "--valid-rows", help="store the valid rows even when others are refused")]


class Report(StrEnum):
    ledger = "ledger"
    stock = "stock"


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def _import(kind: str, file: Path, actor: str | None, valid_rows: bool) -> None:
    from sqlalchemy.exc import IntegrityError

    from passtrace.cli.imports import _actor, _print_problems, _read, _refusals
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.core.imports import refused_rows
    from passtrace.supplies import imports

    rt = _runtime()
    run = imports.import_items if kind == "items" else imports.import_stock
    with _refusals(), _bar() as bar:
        data = _read(file)
        task = bar.add_task(f"importing {kind}", total=None)
        try:
            for session in session_scope(rt.sessions):
                done = run(session=session, actor=_actor(session, actor, "supplies.manage"),
                           data=data, filename=file.name, apply_valid=valid_rows,
                           progress=lambda n, total: bar.update(task, completed=n,
                                                                total=total))
        except IntegrityError:
            console.print("[red]Another import stored some of these rows at the same "
                          "moment. Import the file again: rows already stored are "
                          "skipped.[/red]")
            raise typer.Exit(2) from None
    result = done.result
    _print_problems(result.problems, result.labels)
    refused = refused_rows(result)
    if not result.committed:
        console.print(f"[red]{result.rows} rows, {refused} refused: nothing stored (fix "
                      "them, or pass --valid-rows)[/red]")
        raise typer.Exit(2)
    if isinstance(done, imports.ItemImport):
        console.print(f"[green]{result.rows} rows: {done.created} items created, "
                      f"{done.updated} updated, {result.unchanged} unchanged, "
                      f"{refused} refused[/green]")
    else:
        console.print(f"[green]{result.rows} rows: {result.imported} lots loaded "
                      f"({done.units} units), {result.unchanged} already there, "
                      f"{refused} refused[/green]")


@import_app.command("items")
def import_items(file: FileArg, actor: ActorOpt = None, valid_rows: ValidRowsOpt = False
                 ) -> None:
    """Items: name, category, unit, and optionally pack size, shelf life, lead time and
    safety days. Keyed by name: a changed row updates the item (audited)."""
    _import("items", file, actor, valid_rows)


@import_app.command("stock")
def import_stock(file: FileArg, actor: ActorOpt = None, valid_rows: ValidRowsOpt = False
                 ) -> None:
    """Opening stock: depot code, item name, lot, expiry date, quantity (ledger entries of
    kind "opening"; a row already loaded is skipped)."""
    _import("stock", file, actor, valid_rows)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        console.print(f"[red]{option} is YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None


@app.command("export")
def export(
    report: Annotated[Report, typer.Argument(help="ledger (every movement) or stock "
                                                  "(what each depot holds, by lot)")],
    output: Annotated[Path, typer.Option("-o", "--output",
                                         help="file to write (readable by its owner only)")],
    fmt: Annotated[Format, typer.Option("--format", help="csv or xlsx")] = Format.csv,
    actor: Annotated[str | None, typer.Option(
        "--actor", help="export as this officer (their depots only); default: all depots")
    ] = None,
    depot: Annotated[list[str] | None, typer.Option(
        "--depot", help="only this depot code (repeatable)")] = None,
    since: Annotated[str | None, typer.Option(help="ledger from this local day")] = None,
    until: Annotated[str | None, typer.Option(help="ledger up to this local day")] = None,
) -> None:
    """Write the ledger or the stock report as CSV or Excel (formula-safe, audited)."""
    from passtrace.cli.files import os_user, private_file
    from passtrace.cli.imports import _actor
    from passtrace.cli.main import _domain_errors, _runtime
    from passtrace.core.db import session_scope
    from passtrace.supplies import export as exports

    first, last = _day(since, "--since"), _day(until, "--until")
    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            prepared = exports.prepare(
                session=session, actor=_actor(session, actor, "supplies.manage"),
                report=report.value, depot_codes=depot, since=first, until=last,
                audit_extra={"via": "cli", "os_user": os_user(), "format": fmt.value,
                             "file": str(output)})
    with _bar() as bar, private_file(output) as fh, rt.sessions() as reading:
        task = bar.add_task(f"writing {report.value}", total=None)
        for chunk in exports.chunks(fmt.value, prepared.header, prepared.batches(reading),
                                    report.value):
            fh.write(chunk)
            bar.advance(task)
    console.print(f"[green]{prepared.count} rows -> {output}[/green]")
