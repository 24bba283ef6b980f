"""`passtrace codec`: look inside pass texts and run the DCC conformance vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from passtrace.codec import PassRejected, inspect_pass
from passtrace.codec.conformance import run_conformance
from passtrace.codec.qr import decode_qr_image

app = typer.Typer(
    help="The signed pass format: inspect pass texts and QR images, run the DCC test vectors.",
    no_args_is_help=True,
)

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF")


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _texts_from(source: str) -> list[str]:
    """Resolve TEXT, @FILE or an image path to the pass texts it holds."""
    path: Path | None = None
    if source.startswith("@"):
        path = Path(source[1:])
    elif not source.startswith(("PT1:", "HC1:")) and Path(source).is_file():
        path = Path(source)
    if path is None:
        return [source.strip("\r\n")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}") from None
    if data.startswith(_IMAGE_MAGIC):
        texts = decode_qr_image(data)
        if not texts:
            raise typer.BadParameter(f"no QR code found in {path}")
        return texts
    # Only line breaks are stripped: a space is a valid Base45 character.
    return [data.decode("utf-8").strip("\r\n")]


@app.command()
def inspect(
    source: str = typer.Argument(..., help="Pass text, @FILE (text or image) or an image path."),
) -> None:
    """Print what a pass contains, WITHOUT verifying its signature."""
    results = []
    failed = False
    for text in _texts_from(source):
        try:
            results.append(inspect_pass(text))
        except PassRejected as exc:
            failed = True
            results.append({"error": exc.reason, "detail": exc.detail})
    _print(results[0] if len(results) == 1 else results)
    if failed:
        raise typer.Exit(1)


@app.command()
def conformance(
    directory: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="Checkout of dcc-quality-assurance/dgc-testdata."
    ),
) -> None:
    """Run every .../2DCode/raw/*.json vector (any depth); print a JSON summary, exit 1 on
    any failure."""
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("DCC vectors", total=None)

        def tick(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total, description=name)

        result = run_conformance(directory, progress=tick)
    table = Table("check", "found", "run", "passed", "failed", "skipped",
                  title=f"{result['total']} vectors")
    for name, counts in result["checks"].items():
        table.add_row(name, *(str(counts[k]) for k in ("found", "run", "passed", "failed",
                                                         "skipped")))
    console.print(table)  # stderr: stdout stays the JSON summary
    _print(result)
    if result["failed"]:
        raise typer.Exit(1)
