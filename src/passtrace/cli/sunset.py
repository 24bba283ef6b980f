"""passtrace sunset: end of the deployment (docs/security.md, "Sunset")."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from passtrace.core.config import Settings

console = Console()

# Key files named by PASSTRACE_<NAME>_FILE that protect personal data or sign passes.
KEY_FILE_SETTINGS = ("pii_key", "pii_hash_key", "pii_previous_keys", "key_wrap_key")


def key_files(settings: Settings) -> list[Path]:
    """The key files this deployment reads (the trust-root key's too), that exist."""
    paths = [Path(p) for name in KEY_FILE_SETTINGS
             if (p := os.environ.get(f"PASSTRACE_{name.upper()}_FILE"))]
    if settings.trust_root_path is not None:
        paths.append(settings.trust_root_path)
    return [p for p in paths if p.exists()]


def destroy(paths: list[Path]) -> tuple[list[str], list[str]]:
    """Delete key files; (destroyed, left: the ones that could not be deleted)."""
    done, left = [], []
    for path in paths:
        try:
            path.unlink()
            done.append(str(path))
        except OSError:
            left.append(str(path))  # a read-only mount: the operator deletes it
    return done, left


def sunset(
    confirm: Annotated[bool, typer.Option(
        "--confirm", help="really delete (without it: only show what would go)")] = False,
    stats: Annotated[Path | None, typer.Option(
        help="where to write the aggregate statistics (default: "
             "sunset-statistics-<time>.json in the data dir)")] = None,
) -> None:
    """Export aggregate statistics, then delete all personal data and keys, with receipts."""
    import passtrace.models  # noqa: F401 - every table on the metadata, so all are emptied
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.retention import sunset as service

    rt = _runtime()
    for session in session_scope(rt.sessions):
        before = service.counts(session=session)
    table = Table("table", "rows", title="Sunset: personal data to delete")
    for name, n in before.items():
        table.add_row(name, str(n))
    console.print(table)
    files = key_files(rt.settings)
    for path in files:
        console.print(f"key file to destroy: {path}")
    console.print("Kept: areas, sites, compounds, buildings, flats, enterprises, departments, "
                  "daily report counts, and the audit log (with a receipt per deletion).")
    if not confirm:
        console.print("[yellow]Nothing was changed. Run again with --confirm to delete."
                      "[/yellow]")
        return
    path = stats or Path(rt.settings.data_dir) / (
        f"sunset-statistics-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json")
    for session in session_scope(rt.sessions):
        digest = service.write_statistics(path, service.statistics(session=session))
    console.print(f"aggregate statistics written to {path} (sha256 {digest})")
    destroyed, left = destroy(files)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console) as bar:
        task = bar.add_task("deleting", total=sum(before.values()) or 1)
        report = service.run(sessions=rt.sessions, stats_sha256=digest, destroyed=destroyed,
                             progress=lambda name, n: bar.update(task, advance=n,
                                                                 description=name))
        bar.update(task, completed=bar.tasks[0].total, description="done")
    console.print(f"[green]sunset {report.run_id}: {sum(report.deleted.values())} rows "
                  f"deleted, {report.receipts} receipts in the audit log[/green]")
    for name in destroyed:
        console.print(f"destroyed key file {name}")
    for name in left:
        console.print(f"[red]could not delete {name}: delete it yourself[/red]")
    console.print("Also delete the PII and key-wrapping keys from wherever else they are kept "
                  "(environment, KMS, backups of the key files): without them, backups of "
                  "the database stay unreadable.")
