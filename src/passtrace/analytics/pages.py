"""The officials' analytics page: ask for a job, watch it run, download its result.

Jobs run in the job runner (analytics.jobs), never in the request: a population scan
takes seconds to minutes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from passtrace.analytics import choices, flows, service
from passtrace.analytics.forms import ContactsForm, RunForm, RunRequest, case_id
from passtrace.analytics.queries import JOBS
from passtrace.areas import service as area_service
from passtrace.core.clock import local_today
from passtrace.core.i18n import get_locale
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/analytics", include_in_schema=False)


def _index(request: Request, session: SessionDep, principal: CurrentPrincipal,
           cursor: str | None, *, values: dict[str, str] | None = None,
           errors: dict[str, str] | None = None, message: str | None = None,
           status_code: int = 200) -> Response:
    runs, nxt = service.history(session=session, actor=principal, cursor=cursor)
    today = local_today()
    defaults = {"job": "site-load", "day_from": (today - timedelta(days=6)).isoformat(),
                "day_to": today.isoformat(), "areas": [], "cases": [], "window_minutes": "30"}
    return render(request, "analytics/index.html", {
        "jobs": list(JOBS), "runs": runs, "next": nxt,
        "area_choices": choices.areas(session=session, actor=principal),
        "case_choices": choices.cases(session=session, actor=principal),
        "who": service.requesters(session=session, runs=runs), "values": values or defaults,
        "errors": errors or {}, "message": message}, status_code=status_code)


@router.get("")
def index(request: Request, session: SessionDep, principal: CurrentPrincipal,
          cursor: str = "") -> Response:
    """The form and the history of runs (who ran what, with which parameters)."""
    return _index(request, session, principal, cursor[:200] or None)


@router.post("/runs")
def ask(request: Request, session: SessionDep, principal: CurrentPrincipal,
        form: Annotated[RunForm, Form()]) -> Response:
    """Queue a run for the job runner; then show its progress."""
    def save(data: RunRequest) -> Response:
        run = service.request_run(session=session, actor=principal, job=data.job,
                                  day_from=data.day_from, day_to=data.day_to,
                                  area_codes=data.area_codes, case_ids=data.case_ids,
                                  window_minutes=data.window_minutes)
        return RedirectResponse(f"/analytics/runs/{run.id}", status_code=303)

    def refused(f: forms.Failure) -> Response:
        return _index(request, session, principal, None, values=f.values, errors=f.errors,
                      message=f.message, status_code=f.status)

    return forms.submit(session, form, save, refused)


@router.get("/runs/{run_id}")
def show(request: Request, run_id: uuid.UUID, session: SessionDep,
         principal: CurrentPrincipal) -> Response:
    """One run: its parameters and progress (the page refreshes itself until it ends)."""
    return _run_page(request, session, principal, run_id)


def _run_page(request: Request, session: SessionDep, principal: CurrentPrincipal,
              run_id: uuid.UUID, *, message: str | None = None,
              status_code: int = 200) -> Response:
    run = service.get(session=session, actor=principal, run_id=run_id)
    companions = run.job == "companions"
    done = flows.conversions(session=session, run=run) if companions else []
    cases = (choices.run_cases(session=session, actor=principal,
                               case_ids=flows.listed_cases(run)) if companions else [])
    who = service.requesters_by_id(session=session,
                                   ids={c.actor_user_id for c in done if c.actor_user_id})
    areas = area_service.names(session=session, codes=list(run.params.get("area_codes", [])),
                               locale=str(get_locale()))
    return render(request, "analytics/run.html", {
        "run": run, "conversions": done,
        # The run's areas by name (officials never read codes).
        "areas": [areas.get(c, c) for c in run.params.get("area_codes", [])], "run_cases": cases,
        "case_names": dict(cases), "who": who, "message": message,
        "can_convert": companions and run.status == "done" and bool(cases)},
        status_code=status_code)


@router.post("/runs/{run_id}/contacts")
def to_contacts(request: Request, run_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal,
                form: Annotated[ContactsForm, Form()]) -> Response:
    """Add the run's companions to a case's contacts (or each listed case's); then show
    the run again, with what was added and a link to the case's contact list."""
    def save(picked: str) -> Response:
        flows.to_contacts(session=session, settings=rt.settings, actor=principal,
                          run_id=run_id, case_id=case_id(picked))
        return RedirectResponse(f"/analytics/runs/{run_id}#conversions", status_code=303)

    def refused(f: forms.Failure) -> Response:
        return _run_page(request, session, principal, run_id,
                         message=f.first_error, status_code=f.status)

    return forms.submit(session, form, save, refused)


@router.get("/runs/{run_id}/result")
def result(run_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> Response:
    """The result (pseudonymised Parquet); the download is audited."""
    run, path = service.download(session=session, actor=principal, run_id=run_id,
                                 results_dir=rt.settings.analytics_results_dir)
    return FileResponse(path, media_type="application/vnd.apache.parquet",
                        filename=f"{run.job}-{run.id}.parquet")
