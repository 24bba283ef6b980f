"""passtrace cases: open a case from the command line (a tracing team's typed list)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Cases: confirmed, suspected and asymptomatic infections.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        err.print(f"[red]{option}: a date is YYYY-MM-DD, e.g. 2026-12-01[/red]")
        raise typer.Exit(2) from None


def _bad(message: str) -> typer.Exit:
    err.print(f"[red]{message}[/red]")
    return typer.Exit(2)


@app.command("add")
def add(
    id_number: Annotated[str, typer.Option("--id-number", help="the person's ID number")],
    onset: Annotated[str | None, typer.Option(help="onset date, YYYY-MM-DD")] = None,
    classification: Annotated[str, typer.Option(
        help="confirmed, suspected or asymptomatic")] = "confirmed",
    sampling: Annotated[str | None, typer.Option(help="sampling date, YYYY-MM-DD")] = None,
    isolation: Annotated[str | None, typer.Option(help="isolation date, YYYY-MM-DD")] = None,
    window_start: Annotated[str | None, typer.Option(
        "--window-start", help="first day of the exposure window")] = None,
    window_end: Annotated[str | None, typer.Option(
        "--window-end", help="last day of the exposure window")] = None,
    area: Annotated[str | None, typer.Option(
        help="area code (default: the actor's one area, else the ID number's region)")] = None,
    source: Annotated[str, typer.Option(help="how the case was found")] = "",
    notes: Annotated[str, typer.Option(help="notes")] = "",
    actor: Annotated[str | None, typer.Option(
        help="login of the official opening the case (checked against their area)")] = None,
) -> None:
    """Open a case; print its id as the last line. Bad input: a message, exit 2, nothing stored."""
    from pydantic import ValidationError

    from passtrace.accounts import service as account_service
    from passtrace.areas import service as area_service
    from passtrace.cases import present
    from passtrace.cases import service as case_service
    from passtrace.cases.schemas import CaseCreate
    from passtrace.cli.main import _runtime
    from passtrace.core.db import session_scope
    from passtrace.core.errors import DomainError
    from passtrace.core.validators import normalize_id_number
    from passtrace.web.errors import form_field_errors

    days = {"onset_date": _day(onset, "--onset"), "sampling_date": _day(sampling, "--sampling"),
            "isolation_date": _day(isolation, "--isolation"),
            "window_start": _day(window_start, "--window-start"),
            "window_end": _day(window_end, "--window-end")}
    rt = _runtime()
    for session in session_scope(rt.sessions):
        principal = None
        if actor is not None:
            user = account_service.get_by_username(session=session, username=actor)
            if user is None or not user.is_active:
                raise _bad(f"--actor: no active login {actor}")
            principal = account_service.principal_for(user)
        code = area
        if code is None and principal is not None:
            scopes = principal.area_scopes("case.manage") or []
            if len(scopes) == 1:
                code = present.scope_area(scopes[0])
        if code is None:
            # GB 11643: the first six digits are the region where the number was issued.
            region = normalize_id_number(id_number)[:6]
            if area_service.get(session=session, code=region) is not None:
                code = region
        if code is None:
            raise _bad("--area is needed: the ID number's region is not a known area")
        try:
            data = CaseCreate.model_validate({
                "id_number": id_number, "classification": classification, "area_code": code,
                "source": source, "notes": notes, **days})
        except ValidationError as exc:
            fields = form_field_errors(exc)
            raise _bad("; ".join(f"{k}: {v}" for k, v in fields.items())) from None
        try:
            with session.begin_nested():
                case = case_service.create(session=session, rt=rt, actor=principal, data=data)
        except DomainError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.translated_fields().items())
            raise _bad(exc.translated() + (f" ({detail})" if detail else "")) from None
        console.print(f"window: {case.window_start.isoformat()} .. {case.window_end.isoformat()}")
        case_id = case.id
    print(case_id)
