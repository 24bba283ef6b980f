"""Analytics API (/api/v1/analytics/runs): ask for a population job, follow it, fetch
its pseudonymised result. The same service as the officials' page: scoped to the
official's areas, every request and download audited. Lists page `{items, next}`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import FileResponse

from passtrace.analytics import flows, service
from passtrace.analytics.models import AnalyticsRun
from passtrace.analytics.schemas import (
    CaseContactsRead,
    ContactsCreate,
    ContactsRead,
    RunCreate,
    RunRead,
)
from passtrace.core.pagination import Page
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/analytics", tags=["analytics"])


def _read(run: AnalyticsRun) -> RunRead:
    url = f"/api/v1/analytics/runs/{run.id}/result" if run.status == "done" else None
    convert = (f"/api/v1/analytics/runs/{run.id}/contacts"
               if run.status == "done" and run.job == "companions" else None)
    return RunRead.model_validate({**{k: getattr(run, k) for k in (
        "id", "job", "params", "status", "progress", "requested_at", "started_at",
        "finished_at", "rows")}, "result_url": url, "add_to_contacts_url": convert})


@router.post("/runs", response_model=RunRead, status_code=202)
def ask(data: RunCreate, session: SessionDep, principal: CurrentPrincipal) -> RunRead:
    """Queue a run for the job runner (202: follow it at GET /analytics/runs/{id})."""
    run = service.request_run(session=session, actor=principal, job=data.job,
                              day_from=data.day_from, day_to=data.day_to,
                              area_codes=data.area_codes, case_ids=data.case_ids,
                              window_minutes=data.window_minutes)
    return _read(run)


@router.get("/runs", response_model=Page[RunRead])
def history(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
            limit: Limit = DEFAULT_LIMIT) -> Page[RunRead]:
    """The runs you may see (yours, and those over your areas), newest first."""
    runs, nxt = service.history(session=session, actor=principal, cursor=cursor,
                                limit=limit)
    return Page(items=[_read(r) for r in runs], next=nxt)


@router.get("/runs/{run_id}", response_model=RunRead)
def show(run_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> RunRead:
    """One run: its parameters, status and progress."""
    return _read(service.get(session=session, actor=principal, run_id=run_id))


@router.get("/runs/{run_id}/result", response_class=FileResponse,
            responses={200: {"content": {"application/vnd.apache.parquet": {}}}})
def result(run_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> FileResponse:
    """The result as Parquet (persons as keyed hashes only); the download is audited."""
    run, path = service.download(session=session, actor=principal, run_id=run_id,
                                 results_dir=rt.settings.analytics_results_dir)
    return FileResponse(path, media_type="application/vnd.apache.parquet",
                        filename=f"{run.job}-{run.id}.parquet")


@router.post("/runs/{run_id}/contacts", response_model=ContactsRead)
def to_contacts(run_id: uuid.UUID, data: ContactsCreate, session: SessionDep,
                rt: RuntimeDep, principal: CurrentPrincipal) -> ContactsRead:
    """Add a finished companions run's companions to a listed case's contacts (or, with
    no case_id, to each listed case's, each its own). Needs contact.manage over the
    case's area; idempotent; audited. The list is then exported (masked, or revealed
    with a purpose and reason) at POST /cases/{case_id}/contacts/export with
    `analytics_run`."""
    done = flows.to_contacts(session=session, settings=rt.settings, actor=principal,
                             run_id=run_id, case_id=data.case_id)
    return ContactsRead(run_id=run_id, cases=[CaseContactsRead(
        case_id=r.case_id, added=r.added, merged=r.merged, unchanged=r.unchanged,
        unknown=r.unknown, tasks_made=r.tasks_made,
        contacts_url=f"/api/v1/cases/{r.case_id}/contacts") for r in done])
