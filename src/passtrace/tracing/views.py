"""API: run and list a case's contacts, export them, and work the tracing tasks."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden
from passtrace.tracing import export as export_service
from passtrace.tracing import present
from passtrace.tracing import service as tracing_service
from passtrace.tracing import tasks as task_service
from passtrace.tracing.models import TracingTask
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.paging import Cursor, Limit

router = APIRouter(tags=["tracing"])

TaskStatus = Literal["not_reached", "reached", "quarantined", "tested"]


class RunRequest(BaseModel):
    """How to search: W (default: the case's), depth (2+: secondary), colleagues."""

    model_config = ConfigDict(extra="forbid")

    window_minutes: int | None = Field(default=None, ge=0, le=1440)
    depth: int = Field(default=1, ge=1, le=5)
    colleagues: bool = False


class TaskRead(BaseModel):
    """A tracing task as officials see it."""

    id: uuid.UUID
    contact_id: uuid.UUID
    area_code: str
    status: str
    due_at: datetime
    reached_at: datetime | None
    overdue: bool
    notes: str


class ContactRead(BaseModel):
    """A contact: masked person, kind, exposure and every piece of evidence."""

    id: uuid.UUID
    person: str | None
    kind: str
    depth: int
    via_contact_id: uuid.UUID | None
    first_exposure: datetime
    last_exposure: datetime
    quarantine_until: date
    area_code: str
    evidence: list[dict[str, Any]]
    # Secondary contacts: the number of items per kind (`evidence` holds the earliest few).
    evidence_counts: dict[str, int] | None = None
    task: TaskRead | None


class ContactPage(BaseModel):
    """One page of contacts and the cursor of the next."""

    items: list[ContactRead]
    next: str | None
    reached_within_24h: int
    tasks: int


class TaskPage(BaseModel):
    """One page of tasks and the cursor of the next."""

    items: list[TaskRead]
    next: str | None


class TaskUpdate(BaseModel):
    """A new status and an optional note (appended)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: TaskStatus
    note: str = Field(default="", max_length=500)


class RevealIn(BaseModel):
    """Why the export carries ID numbers and phones."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(max_length=32)
    reason: str = Field(max_length=500)


class ExportRequest(BaseModel):
    """CSV or Excel, masked unless a reveal is given."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "xlsx"] = "csv"
    reveal: RevealIn | None = None
    # Only the companions this analytics run added (audited as coming from it).
    analytics_run: uuid.UUID | None = None


def task_read(task: TracingTask) -> TaskRead:
    """The task as the API shows it."""
    return TaskRead(id=task.id, contact_id=task.contact_id, area_code=task.area_code,
                    status=task.status, due_at=task.due_at, reached_at=task.reached_at,
                    overdue=task.status == "not_reached" and task.due_at < utcnow(),
                    notes=task.notes)


@router.post("/cases/{case_id}/contacts/run", response_model=ContactPage)
def run_contacts(case_id: uuid.UUID, data: RunRequest, session: SessionDep, rt: RuntimeDep,
                 principal: CurrentPrincipal) -> ContactPage:
    """Find the case's contacts now (idempotent) and return the first page. contact.manage."""
    case = tracing_service.case_for(session=session, principal=principal, case_id=case_id,
                                    permission="contact.manage")
    tracing_service.run(session=session, settings=rt.settings, actor=principal, case=case,
                        window_minutes=data.window_minutes, depth=data.depth,
                        colleagues=data.colleagues)
    return list_contacts(case_id, session, principal, None, 50)


@router.get("/cases/{case_id}/contacts", response_model=ContactPage)
def list_contacts(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                  cursor: Cursor = None, limit: Limit = 50) -> ContactPage:
    """The case's stored contacts, nearest first. contact.view over the case's area."""
    case = tracing_service.case_for(session=session, principal=principal, case_id=case_id)
    rows, nxt = tracing_service.page(session=session, actor=principal, case=case,
                                     cursor=cursor, limit=limit)
    reached, total = task_service.reached_share(session=session, case_id=case.id)
    items = [ContactRead(id=c.id, person=m if c.person_id else None,
                         kind=c.kind, depth=c.depth, via_contact_id=c.via_contact_id,
                         first_exposure=c.first_exposure, last_exposure=c.last_exposure,
                         quarantine_until=c.quarantine_until, area_code=c.area_code,
                         evidence=c.evidence, evidence_counts=c.evidence_counts,
                         task=task_read(t) if t else None)
             for c, t, m in ((r.contact, r.task, r.masked) for r in rows)]
    return ContactPage(items=items, next=nxt, reached_within_24h=reached, tasks=total)


@router.post("/cases/{case_id}/contacts/export")
def export_contacts(case_id: uuid.UUID, data: ExportRequest, session: SessionDep,
                    rt: RuntimeDep, principal: CurrentPrincipal) -> StreamingResponse:
    """The contact list as CSV or Excel; with `reveal`, ID numbers and phones (audited)."""
    case = tracing_service.case_for(session=session, principal=principal, case_id=case_id)
    if data.reveal is not None and not principal.has("person.reveal"):
        raise Forbidden("You may not view this person's data.")
    reveal = (export_service.Reveal(data.reveal.purpose, data.reveal.reason)
              if data.reveal else None)
    header, rows = export_service.rows(
        session=session, rt=rt, actor=principal, case=case, reveal=reveal,
        from_run=str(data.analytics_run) if data.analytics_run else None)
    session.commit()  # the audit entries stand even if the download is cut off
    return present.download(data.format, header, rows)


@router.get("/tracing/tasks", response_model=TaskPage)
def list_tasks(session: SessionDep, principal: CurrentPrincipal, overdue: bool = False,
               cursor: Cursor = None, limit: Limit = 50) -> TaskPage:
    """Tracing tasks over your areas, oldest due first; `overdue`: not reached and late."""
    if not principal.has("contact.view"):
        raise Forbidden("Your role does not allow this.")
    rows, nxt = task_service.page(session=session, principal=principal, overdue=overdue,
                                  cursor=cursor, limit=limit)
    tracing_service.record_task_view(session=session, actor=principal,
                                     contacts=[r.contact for r in rows])
    return TaskPage(items=[task_read(r.task) for r in rows], next=nxt)


@router.patch("/tracing/tasks/{task_id}", response_model=TaskRead)
def update_task(task_id: uuid.UUID, data: TaskUpdate, session: SessionDep,
                principal: CurrentPrincipal) -> TaskRead:
    """Set a task's status and append a note. contact.manage over the task's area."""
    if not principal.has("contact.manage"):
        raise Forbidden("Your role does not allow this.")
    task = task_service.set_status(session=session, principal=principal, task_id=task_id,
                                   status=data.status, note=data.note)
    return task_read(task)
