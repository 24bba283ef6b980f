"""passtrace trace: a case's contacts on the command line."""

from __future__ import annotations

import json
import sys
import uuid
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
) -> None:
    """Find a case's contacts, store them, and print them (JSON lines or CSV)."""
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
    with _domain_errors():
        for session in session_scope(rt.sessions):
            found = tracing_service.case_for(session=session, principal=None, case_id=case_id)
            now = tracing_service.stored(session=session, found=tracing_service.run(
                session=session, settings=rt.settings, actor=None, case=found,
                window_minutes=window_minutes, depth=depth, colleagues=colleagues))
            if fmt == "json":
                items = export_service.listed(session=session, rt=rt, actor=None, case=found,
                                              reveal=ask, only=now)
                lines = [json.dumps(export_service.record(i), ensure_ascii=False)
                         for i in items]
                chunks = [("\n".join(lines) + "\n").encode() if lines else b""]
            else:
                header, data = export_service.rows(session=session, rt=rt, actor=None,
                                                   case=found, reveal=ask, only=now)
                chunks = list(export_service.csv_bytes(header, data))
    for chunk in chunks:
        sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
