"""passtrace trace: a case's contacts on the command line."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Contact tracing.", no_args_is_help=True)
err = Console(stderr=True)


@app.command("contacts")
def contacts(
    case: Annotated[str, typer.Argument(help="the case's id")],
    window_minutes: Annotated[int | None, typer.Option(
        min=0, max=1440, help="W: same site within this many minutes (default: the case's)")
    ] = None,
    depth: Annotated[int, typer.Option(min=1, max=5, help="1: close contacts; 2+: secondary")
                     ] = 1,
    fmt: Annotated[str, typer.Option("--format", help="json (JSON lines) or csv")] = "json",
    colleagues: Annotated[bool, typer.Option(help="also colleagues (general contacts)")
                          ] = False,
    reveal: Annotated[bool, typer.Option(help="carry ID numbers and phones (audited)")
                      ] = False,
    reason: Annotated[str, typer.Option(help="why the data is revealed (with --reveal)")
                      ] = "",
    purpose: Annotated[str, typer.Option(help="the purpose code of the reveal")
                       ] = "contact_tracing",
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="file to write (readable by its owner only); default stdout")
    ] = None,
) -> None:
    """Find a case's contacts, store them, and print or write them (JSON lines or CSV)."""
    from passtrace.cli.files import os_user, private_file
    from passtrace.cli.main import _domain_errors, _runtime
    from passtrace.core.db import session_scope
    from passtrace.tracing import export as export_service
    from passtrace.tracing import service as tracing_service

    if fmt not in ("json", "csv"):
        err.print("[red]--format is json or csv[/red]")
        raise typer.Exit(2)
    try:
        case_id = uuid.UUID(case.strip())
    except ValueError:
        err.print("[red]CASE is a case id (a UUID, as `passtrace cases add` prints it)[/red]")
        raise typer.Exit(2) from None
    if reason and not reveal:
        err.print("[red]--reason goes with --reveal[/red]")
        raise typer.Exit(2)
    rt = _runtime()
    ask = export_service.Reveal(purpose, reason) if reveal else None
    # No login runs the CLI: the OS account that ran it is who exported.
    audit_extra = {"via": "cli", "os_user": os_user(), "format": fmt,
                   "file": str(output) if output else "stdout"}
    with _domain_errors():
        for session in session_scope(rt.sessions):
            found = tracing_service.case_for(session=session, principal=None, case_id=case_id)
            now = tracing_service.stored(session=session, found=tracing_service.run(
                session=session, settings=rt.settings, actor=None, case=found,
                window_minutes=window_minutes, depth=depth, colleagues=colleagues))
            if fmt == "json":
                items = export_service.listed(session=session, rt=rt, actor=None, case=found,
                                              reveal=ask, only=now,
                                              audit_extra=audit_extra)
                lines = [json.dumps(export_service.record(i), ensure_ascii=False)
                         for i in items]
                chunks = [("\n".join(lines) + "\n").encode() if lines else b""]
            else:
                header, data = export_service.rows(session=session, rt=rt, actor=None,
                                                   case=found, reveal=ask, only=now,
                                                   audit_extra=audit_extra)
                chunks = list(export_service.csv_bytes(header, data))
    if output is not None:
        with private_file(output) as fh:
            for chunk in chunks:
                fh.write(chunk)
        err.print(f"[green]{len(now)} contacts -> {output}[/green]")
        return
    for chunk in chunks:
        sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
