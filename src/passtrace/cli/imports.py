"""Bulk loading from other systems: `passtrace sites import`, `registrations import`,
`reports import`.

Each command reads a file, stores what is valid as its domain decides, and prints the
same row report the import pages show (row, column, translated message). A file that
cannot be read, an unknown --actor, or refused rows in an all-or-nothing import exit
with code 2 and store nothing; no traceback reaches the user.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from passtrace.core.imports import Problem
    from passtrace.core.security import Principal

sites_app = typer.Typer(help="Sites: bulk import.", no_args_is_help=True)
registrations_app = typer.Typer(help="Registrations: bulk import from other systems.",
                                no_args_is_help=True)
console = Console()
# How many refused rows the printed report lists (the counts are always complete).
SHOWN_PROBLEMS = 200

FileArg = Annotated[Path, typer.Argument(help="the file to import", exists=False)]
ActorOpt = Annotated[str | None, typer.Option(
    "--actor", help="login of the official (or admin) importing; their scope applies")]


@contextmanager
def _refusals() -> Iterator[None]:
    """A domain error (bad file, unknown actor, outside scope): its message, exit code 2."""
    from passtrace.core.errors import DomainError

    try:
        yield
    except DomainError as exc:
        console.print(f"[red]{exc.translated()}[/red]")
        raise typer.Exit(2) from None


def _read(path: Path) -> bytes:
    from passtrace.core.errors import ValidationFailed

    try:
        return path.read_bytes()
    except OSError:
        raise ValidationFailed("The file %(file)s cannot be read.", file=str(path)) from None


def _actor(session: Session, login: str | None, permission: str) -> Principal | None:
    """The principal behind --actor, who must hold the permission somewhere."""
    from passtrace.accounts import service as account_service
    from passtrace.core.errors import ValidationFailed

    if login is None:
        return None
    user = account_service.get_by_username(session=session, username=login)
    principal = account_service.principal_for(user) if user is not None and user.is_active \
        else None
    if principal is None or not principal.has(permission):
        raise ValidationFailed("The --actor login is not an active official who may "
                               "import this.")
    return principal


def _print_problems(problems: Sequence[Problem], labels: dict[int, str] | None = None) -> None:
    if not problems:
        return
    table = Table("row", "column", "problem", title="refused rows")
    for p in problems[:SHOWN_PROBLEMS]:
        label = (labels or {}).get(p.row)
        table.add_row(f"{p.row} ({label})" if label else str(p.row), p.column, p.translated())
    console.print(table)
    if len(problems) > SHOWN_PROBLEMS:
        console.print(f"… and {len(problems) - SHOWN_PROBLEMS} more")


@sites_app.command("import")
def sites_import(
    file: FileArg,
    actor: Annotated[str, typer.Option(
        "--actor", help="login of the official (or admin) importing; their scope applies")],
    valid_rows: Annotated[bool, typer.Option(
        "--valid-rows", help="store the valid rows even when others are refused")] = False,
) -> None:
    """Import sites from CSV or Excel (all or nothing unless --valid-rows)."""
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.sites import service as site_service

    rt = _runtime()
    with _refusals():
        data = _read(file)
        for session in session_scope(rt.sessions):
            principal = _actor(session, actor, "site.manage")
            assert principal is not None
            done = site_service.import_sites(session=session, actor=principal, data=data,
                                             filename=file.name, apply_valid=valid_rows)
    result = done.result
    _print_problems(result.problems, result.labels)
    if not result.committed:
        console.print(f"[red]{result.rows} rows, {len({p.row for p in result.problems})} "
                      "refused: nothing stored (fix them, or pass --valid-rows)[/red]")
        raise typer.Exit(2)
    console.print(f"[green]{result.rows} rows: {done.created} sites created, "
                  f"{done.updated} updated, "
                  f"{len({p.row for p in result.problems})} refused[/green]")


@registrations_app.command("import")
def registrations_import(file: FileArg, actor: ActorOpt = None) -> None:
    """Import registrations from another system's CSV (idempotent by external_id).

    Columns: external_id, site_code, id_number, occurred_at (ISO 8601 with offset),
    direction (in/out/through), optional temperature and plate. Valid rows are stored
    in chunks; refused rows are listed (exit code 2) and may be fixed and re-run.
    """
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.registrations import imports

    rt = _runtime()
    with _refusals():
        if not file.is_file():
            _read(file)
        with file.open("rb") as fh, Progress(
                TextColumn("importing"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                console=console, transient=True) as progress:
            task = progress.add_task("rows", total=file.stat().st_size)
            for session in session_scope(rt.sessions):
                principal = _actor(session, actor, "site.manage")
                done = imports.import_registrations(
                    session=session, vault=rt.vault, actor=principal, stream=fh,
                    commit=session.commit,
                    progress=lambda at: progress.update(task, completed=at))
    _print_problems(done.problems)
    console.print(f"{done.rows} rows: {done.imported} imported, {done.unchanged} already "
                  f"there, {done.refused} refused; {done.stays} stays rebuilt")
    if done.refused:
        raise typer.Exit(2)


def reports_import(
    file: FileArg, actor: ActorOpt = None,
    valid_rows: Annotated[bool, typer.Option(
        "--valid-rows", help="store the valid lines even when others are refused")] = False,
) -> None:
    """Import daily reports from JSON lines (one report a line; idempotent by external_id).

    All or nothing unless --valid-rows; --actor must be an official (case.manage).
    """
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.reports import imports

    rt = _runtime()
    with _refusals():
        data = _read(file)
        for session in session_scope(rt.sessions):
            principal = _actor(session, actor, "case.manage")
            done = imports.import_reports(session=session, vault=rt.vault, actor=principal,
                                          data=data, import_valid=valid_rows)
    _print_problems(done.problems)
    if not done.committed:
        console.print(f"[red]{done.rows} reports, {done.refused} refused: nothing stored "
                      "(fix them, or pass --valid-rows)[/red]")
        raise typer.Exit(2)
    console.print(f"[green]{done.rows} reports: {done.imported} imported, "
                  f"{done.unchanged} already there, {done.people} new people[/green]")
