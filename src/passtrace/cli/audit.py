"""passtrace audit: check the audit log's hash chain."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="The audit log.", no_args_is_help=True)
console = Console()


@app.command("verify")
def verify() -> None:
    """Check the whole hash chain; report the first break and exit 1 if there is one."""
    from passtrace.audit import verify as chain_verify
    from passtrace.cli.main import _runtime

    rt = _runtime()
    with rt.sessions() as session:
        total = chain_verify.count(session)
        with Progress(TextColumn("audit chain"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("verify", total=total)
            outcome = chain_verify.verify(
                session=session, progress=lambda n: progress.advance(task, n))
    if outcome.broken is not None:
        b = outcome.broken
        console.print(f"[red]chain broken at entry id {b.entry_id}, position {b.position}: "
                      f"{b.problem}[/red]")
        console.print(f"{outcome.checked} entries before it are intact "
                      f"(last good position {outcome.head_seq}, hash {outcome.head_hash})")
        raise typer.Exit(1)
    console.print(f"[green]audit chain intact: {outcome.checked} entries[/green]")
    console.print(f"head: position {outcome.head_seq}, hash {outcome.head_hash}")
    for lane, (seq, head) in sorted(outcome.side_heads.items()):
        console.print(f"side lane {lane}: position {seq}, hash {head}")
    console.print("Keep this head somewhere else: a log emptied or rewritten from the start "
                  "is a valid chain too, and only an earlier head shows it.")


@app.command("anchor")
def anchor() -> None:
    """Record the side lanes' heads on the main chain now (the job runner does it too)."""
    from passtrace.audit import jobs
    from passtrace.cli.main import _runtime

    console.print(jobs.anchor_lanes(_runtime()))
