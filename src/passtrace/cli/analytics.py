"""passtrace analytics JOB: one population job over the lake, on DuckDB or Spark."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Population analytics jobs over the lake.", no_args_is_help=True)
err = Console(stderr=True)

Lake = Annotated[Path, typer.Option("--lake", help="the lake directory (passtrace lake export)")]
Engine = Annotated[str, typer.Option("--engine", help="duckdb (embedded) or spark")]
Master = Annotated[str | None, typer.Option(
    "--master", help="Spark master URL (default local[*]; spark-submit sets its own)")]
From = Annotated[str, typer.Option("--from", help="first date, YYYY-MM-DD (UTC)")]
To = Annotated[str, typer.Option("--to", help="last date, YYYY-MM-DD (UTC, inclusive)")]
Out = Annotated[Path, typer.Option("--out", help="result file: .parquet or .csv")]


def _go(job: str, lake: Path, engine: str, master: str | None, day_from: str, day_to: str,
        out: Path, **options: object) -> None:
    from passtrace.analytics import params as job_params
    from passtrace.analytics import run as runner
    from passtrace.cli.lake import parse_day
    from passtrace.cli.main import _domain_errors

    if engine not in ("duckdb", "spark"):
        err.print("[red]--engine is duckdb or spark[/red]")
        raise typer.Exit(2)
    if out.suffix not in (".parquet", ".csv"):
        err.print("[red]--out ends in .parquet or .csv[/red]")
        raise typer.Exit(2)
    if not (lake / "_manifest.json").exists():
        err.print(f"[red]{lake} is not a lake (no _manifest.json): run passtrace lake "
                  "export first[/red]")
        raise typer.Exit(2)
    lo, hi = parse_day(day_from, "--from"), parse_day(day_to, "--to")
    assert lo is not None and hi is not None
    with _domain_errors():
        params = job_params.check(job, day_from=lo, day_to=hi, **options)  # type: ignore[arg-type]
    started = time.perf_counter()
    with err.status(f"{job} on {engine}…"):
        result = runner.run(job, lake, params, engine=engine, master=master)
        runner.write(result, out)
    err.print(f"[green]{result.num_rows} rows in {time.perf_counter() - started:.1f} s "
              f"→ {out}[/green]")


def _hashes(path: Path | None) -> list[str]:
    if path is None:
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@app.command("companions")
def companions(
    lake: Lake, day_from: From, day_to: To, out: Out, engine: Engine = "duckdb",
    master: Master = None,
    case: Annotated[list[str] | None, typer.Option("--case", help="a case id (repeatable)")
                    ] = None,
    hashes: Annotated[Path | None, typer.Option(
        "--hashes", help="a file of person hashes, one a line")] = None,
    window_minutes: Annotated[int, typer.Option(help="±W minutes at the same site")] = 30,
    evidence: Annotated[str, typer.Option(help="window, stays or window,stays")
                        ] = "window,stays",
) -> None:
    """Everyone who shared a site with the index persons, per day, with evidence counts."""
    _go("companions", lake, engine, master, day_from, day_to, out, case_ids=case or [],
        person_hashes=_hashes(hashes), window_minutes=window_minutes,
        evidence=[e.strip() for e in evidence.split(",") if e.strip()])


@app.command("flows")
def flows(lake: Lake, day_from: From, day_to: To, out: Out, engine: Engine = "duckdb",
          master: Master = None) -> None:
    """County → county moves per day, from consecutive registrations of a person."""
    _go("flows", lake, engine, master, day_from, day_to, out)


@app.command("site-load")
def site_load(lake: Lake, day_from: From, day_to: To, out: Out, engine: Engine = "duckdb",
              master: Master = None) -> None:
    """Registrations per site per hour, and the denial rate by reason."""
    _go("site-load", lake, engine, master, day_from, day_to, out)


@app.command("risk-visitors")
def risk_visitors(
    lake: Lake, day_from: From, day_to: To, out: Out, engine: Engine = "duckdb",
    master: Master = None,
    area: Annotated[list[str] | None, typer.Option("--area", help="an area code (repeatable)")
                    ] = None,
) -> None:
    """Persons with a registration or a reported stop in any of the areas."""
    _go("risk-visitors", lake, engine, master, day_from, day_to, out, area_codes=area or [])


@app.command("report-coverage")
def report_coverage(lake: Lake, day_from: From, day_to: To, out: Out,
                    engine: Engine = "duckdb", master: Master = None) -> None:
    """Share of an enterprise's active employees filing a daily report, per day."""
    _go("report-coverage", lake, engine, master, day_from, day_to, out)
