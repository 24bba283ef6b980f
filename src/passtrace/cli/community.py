"""passtrace community: jobs for the compounds (overdue notices)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("overdue")
def overdue(
    community: Annotated[str | None, typer.Option(help="one compound's code (default: all)")]
    = None,
) -> None:
    """Tell managers about residents newly overdue to return (safe to re-run; run it often)."""
    from passtrace.cli.main import _domain_errors, _runtime
    from passtrace.communities.outings import service as outing_service
    from passtrace.core.db import session_scope
    from passtrace.notices.service import standard_notifier

    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            told = outing_service.sweep_overdue(
                session=session, notifier=standard_notifier(session, rt.settings),
                community_code=community)
    console.print(f"newly overdue residents: {told}")
