"""The passtrace command: serve, demo, db, accounts (and the sub-commands in SUB_APPS)."""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from passtrace.core.config import Settings
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime

app = typer.Typer(help="PassTrace: epidemic-prevention field platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Users and role bindings.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
console = Console()


@app.callback()
def _wire() -> None:
    """PassTrace: epidemic-prevention field platform."""
    # Every command may check people at a compound's gate (demo, imports): plug the
    # site kinds in first. Imported here so `passtrace --help` stays quick.
    from passtrace.wiring import wire

    wire()


# Sub-commands kept in their own modules, passtrace.cli.<name>: (name, help).
SUB_APPS = (
    ("codec", "Inspect passes; run the DCC conformance suite."),
    ("reports", "Daily reports: reminders and exports."),
    ("community", "Compounds: overdue-resident notices."),
    ("audit", "The audit log: verify its hash chain."),
    ("jobs", "The job runner: scheduled jobs and the outbox."),
    ("retention", "Retention: what personal data is kept, and deleting what fell due."),
    ("keys", "Pass-signing keys, the trust-list root key, personal-data keys."),
    ("cases", "Cases: open a case for a person from the command line."),
    ("verify", "Trajectory verification: daily reports against registrations."),
    ("trace", "Contact tracing: a case's contacts with their evidence."),
    ("lake", "The pseudonymised Parquet lake the analytics jobs read."),
    ("analytics", "Population analytics jobs over the lake (DuckDB or Spark)."),
    ("warnings", "Early warning: run the rules over a day, escalate overdue alerts."),
    ("supplies", "Supplies: import items and opening stock, export the ledger and stock."),
)
for _name, _help in SUB_APPS:
    app.add_typer(importlib.import_module(f"passtrace.cli.{_name}").app, name=_name, help=_help)
app.command("sunset")(importlib.import_module("passtrace.cli.sunset").sunset)

# Bulk loading from other systems (cli/imports.py): `sites import`, `registrations import`
# and `reports import`, the last one beside the other report commands.
_imports = importlib.import_module("passtrace.cli.imports")
app.add_typer(_imports.sites_app, name="sites", help="Sites: bulk import.")
app.add_typer(_imports.registrations_app, name="registrations",
              help="Registrations: bulk import from other systems.")
importlib.import_module("passtrace.cli.reports").app.command("import")(_imports.reports_import)


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Print a domain error (translated) and exit 1 instead of a traceback."""
    from passtrace.core.errors import DomainError

    try:
        yield
    except DomainError as exc:
        console.print(f"[red]{exc.translated()}[/red]")
        raise typer.Exit(1) from None


def _runtime(settings: Settings | None = None) -> Runtime:
    settings = settings or Settings()
    if settings.is_sqlite:
        db_path = settings.database_url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    from passtrace.registrations import stays

    stays.configure(settings)  # rebuilds and imports cap stays as the server does
    return Runtime.build(settings)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to a revision (default: the newest)."""
    from passtrace.core import migrate

    rt = _runtime()
    migrate.upgrade(rt.engine, revision, vault=rt.vault)
    console.print(f"[green]schema at {revision}[/green]")


@db_app.command("seed-areas")
def db_seed_areas() -> None:
    """Load the bundled administrative divisions."""
    from passtrace.areas import service as area_service

    rt = _runtime()
    for session in session_scope(rt.sessions):
        added = area_service.load_bundled(session=session)
    console.print(f"{added} areas added")


@db_app.command("fill-phone-hashes")
def db_fill_phone_hashes() -> None:
    """Hash the phones stored before phone search existed, in chunks (resumable)."""
    from rich.progress import Progress

    from passtrace.people import phone_backfill

    rt = _runtime()
    for session in session_scope(rt.sessions):
        total = phone_backfill.missing(session=session)
    with Progress(console=console) as progress:
        task = progress.add_task("people.phone_hash", total=total)
        done = phone_backfill.fill_all(
            sessions=rt.sessions, vault=rt.vault,
            advance=lambda chunk: progress.advance(task, chunk.filled + chunk.unreadable))
    console.print(f"[green]{done.filled} phone hashes filled[/green]")
    if done.unreadable:
        console.print(f"[yellow]{done.unreadable} stored phones are no mobile number: "
                      "left for the masked-phone search[/yellow]")


@db_app.command("grant-app-role")
def db_grant_app_role(role: str) -> None:
    """PostgreSQL: let ROLE (the app's login) use every table but only append to and read
    the audit log. Run as the tables' owner, after `passtrace db upgrade`."""
    from passtrace.audit.db_roles import grant_app_role

    rt = _runtime()
    with _domain_errors(), rt.engine.begin() as conn:
        for statement in grant_app_role(conn, role):
            console.print(statement)
    console.print(f"[green]{role} may now insert into and read audit_entries, nothing more[/green]")


@accounts_app.command("create")
def accounts_create(
    username: str,
    display_name: Annotated[str, typer.Option("--name")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)] = "",
) -> None:
    """Create a user (the password is prompted for)."""
    from passtrace.accounts import service as account_service

    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            account_service.create(session=session, rt=rt, actor=None, username=username,
                                   password=password, display_name=display_name or username)
    console.print(f"[green]created {username}[/green]")


@accounts_app.command("grant")
def accounts_grant(
    username: str, role: str,
    area: Annotated[str | None, typer.Option(help="area code scope")] = None,
    site: Annotated[str | None, typer.Option(help="site scope")] = None,
    community: Annotated[str | None, typer.Option(help="community scope")] = None,
    enterprise: Annotated[str | None, typer.Option(help="enterprise scope")] = None,
) -> None:
    """Bind a role to a user, scoped (or global when no scope is given)."""
    from passtrace.accounts import service as account_service

    scopes = [(t, v) for t, v in (("area", area), ("site", site), ("community", community),
                                  ("enterprise", enterprise)) if v]
    if len(scopes) > 1:
        console.print("[red]give at most one scope[/red]")
        raise typer.Exit(2)
    scope_type, scope_value = scopes[0] if scopes else ("global", "")
    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            user = account_service.get_by_username(session=session, username=username)
            if user is None:
                console.print(f"[red]no user {username}[/red]")
                raise typer.Exit(1)
            account_service.grant(session=session, actor=None, user=user, role=role,
                                  scope_type=scope_type, scope_value=scope_value)
    console.print(f"[green]{username}: {role} @ {scope_type} {scope_value}[/green]")


def _scope(area: str | None, site: str | None, community: str | None,
           enterprise: str | None) -> tuple[str, str]:
    scopes = [(t, v) for t, v in (("area", area), ("site", site), ("community", community),
                                  ("enterprise", enterprise)) if v]
    if len(scopes) > 1:
        console.print("[red]give at most one scope[/red]")
        raise typer.Exit(2)
    return scopes[0] if scopes else ("global", "")


def _user_id(session: Session, username: str) -> uuid.UUID:
    from passtrace.accounts import service as account_service

    user = account_service.get_by_username(session=session, username=username)
    if user is None:
        console.print(f"[red]no user {username}[/red]")
        raise typer.Exit(1)
    return user.id


@accounts_app.command("revoke-role")
def accounts_revoke_role(
    username: str, role: str,
    area: Annotated[str | None, typer.Option(help="area code scope")] = None,
    site: Annotated[str | None, typer.Option(help="site scope")] = None,
    community: Annotated[str | None, typer.Option(help="community scope")] = None,
    enterprise: Annotated[str | None, typer.Option(help="enterprise scope")] = None,
) -> None:
    """Take back a role from a user in one scope (global when no scope is given)."""
    from passtrace.accounts import admin

    scope_type, scope_value = _scope(area, site, community, enterprise)
    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            admin.revoke_role(session=session, actor=None,
                              user_id=_user_id(session, username), role=role,
                              scope_type=scope_type, scope_value=scope_value)
    console.print(f"[green]{username}: {role} @ {scope_type} {scope_value} taken back[/green]")


@accounts_app.command("deactivate")
def accounts_deactivate(
    username: str,
    reactivate: Annotated[bool, typer.Option("--reactivate",
                                             help="let the user log in again")] = False,
) -> None:
    """Deactivate a user: their sessions and tokens stop working at once."""
    from passtrace.accounts import admin

    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            admin.set_active(session=session, actor=None, user_id=_user_id(session, username),
                             active=reactivate)
    console.print(f"[green]{username}: {'active' if reactivate else 'deactivated'}[/green]")


@accounts_app.command("reset-password")
def accounts_reset_password(username: str) -> None:
    """Reset a password: print a one-time temporary one, to be changed at next login."""
    from passtrace.accounts import admin

    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            temporary = admin.reset_password(session=session, rt=rt, actor=None,
                                             user_id=_user_id(session, username))
    console.print(f"temporary password for {username} (shown once): [bold]{temporary}[/bold]")


@accounts_app.command("reset-second-factor")
def accounts_reset_second_factor(username: str) -> None:
    """Take a user's second factor away (a lost phone); they set it up again at next login."""
    from passtrace.accounts import second_factor

    rt = _runtime()
    with _domain_errors():
        for session in session_scope(rt.sessions):
            second_factor.reset(session=session, actor=None,
                                user_id=_user_id(session, username))
    console.print(f"[green]{username}: second factor reset; their logins ended[/green]")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    insecure_dev: Annotated[bool, typer.Option(
        "--insecure-dev", help="run on the built-in public keys (a developer's machine only)",
    )] = False,
    jobs: Annotated[bool, typer.Option(
        "--jobs/--no-jobs", help="also run the one job runner in this process (off when "
                                 "`passtrace jobs run` runs elsewhere)")] = True,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log", help="log a line per request (off: every check is "
                                             "in the audit log already)")] = False,
) -> None:
    """Serve the API and pages (migrate first with `passtrace db upgrade`)."""
    import uvicorn

    settings = Settings()
    missing = settings.missing_explicit_keys()
    if missing and settings.env not in ("demo", "test") and not insecure_dev:
        # The built-in keys are public: data they protect is readable by anyone.
        console.print("[red]Refusing to serve on built-in keys. Set "
                      + ", ".join(f"PASSTRACE_{n.upper()}" for n in missing)
                      + " (docs/security.md), or pass --insecure-dev on a developer's "
                      "machine.[/red]")
        raise typer.Exit(2)
    if jobs:
        # One runner for the whole server, in this (parent) process: uvicorn's workers
        # import make_app and must never start one each.
        from passtrace.jobs.runner import Runner, start_thread
        from passtrace.jobs.schedule import scheduled_jobs

        rt = _runtime()
        start_thread(Runner(rt, scheduled_jobs()))
        console.print("job runner started (scheduled jobs and the outbox)")
    # uvloop and httptools (dependencies) by name, so a missing one fails loudly rather
    # than falling back to the pure-Python loop and parser; no access log by default:
    # formatting and writing a line cost a checkpoint check about 3 % of the worker's CPU.
    uvicorn.run("passtrace.cli.main:make_app", factory=True, host=host, port=port,
                workers=workers, proxy_headers=True, http="httptools",
                loop="auto" if sys.platform == "win32" else "uvloop",
                access_log=access_log)


def make_app() -> FastAPI:
    """Build the app from the environment (uvicorn factory, once per worker); it starts
    no background work: the job runner is `serve`'s, or `passtrace jobs run`."""
    from passtrace.app import create_app
    from passtrace.core.gc_tuning import tune_for_serving

    built = create_app(Settings())
    tune_for_serving()  # after the app's imports: see core/gc_tuning.py
    return built


@app.command()
def demo(
    port: int = 8000,
    host: str = "127.0.0.1",
    db: Annotated[Path, typer.Option(help="SQLite file (recreated)")] = Path("var/demo.db"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="seed only")] = False,
) -> None:
    """Start a fresh demo: new SQLite DB, areas, a user per role, sample passes."""
    import uvicorn

    from passtrace import demo as demo_data
    from passtrace.app import create_app
    from passtrace.core import migrate

    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(env="demo", database_url=f"sqlite:///{db}")
    rt = _runtime(settings)
    with console.status("creating the demo database"):
        migrate.upgrade(rt.engine, vault=rt.vault)
        for session in session_scope(rt.sessions):
            demo_data.seed(session=session, rt=rt)
    url = f"http://{host}:{port}/"
    table = Table("username", "password", "role", title="PassTrace demo logins")
    for row in demo_data.login_table():
        table.add_row(*row)
    console.print(table)
    console.print(f"PassTrace demo: [bold]{url}[/bold]  (API docs: {url}api/v1/docs)")
    if no_serve:
        return
    os.environ["PASSTRACE_ENV"] = "demo"
    from passtrace.jobs.runner import Runner, start_thread
    from passtrace.jobs.schedule import scheduled_jobs

    runner = Runner(rt, scheduled_jobs())
    runner.tick(every_job=True)  # the demo's overdue residents are on the manager's notices
    start_thread(runner)
    uvicorn.run(create_app(runtime=rt), host=host, port=port, log_level="info")


if __name__ == "__main__":
    app()
