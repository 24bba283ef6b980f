"""Tracing tasks: reaching each close contact, owned by the officials over its area."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import dialect_insert, locked
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.pagination import paginate_query
from passtrace.core.security import Principal
from passtrace.tracing.models import TASK_STATUSES, Contact, TracingTask

DUE_IN = timedelta(hours=24)
NOTES_MAX = 2000
BAD_STATUS = N_("Choose a status from the list.")
TOO_LONG = N_("The notes are too long.")


class NeedsTask(Protocol):
    """A contact as `ensure` reads it (a stored Contact, or contacts.Stored)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def area_code(self) -> str: ...


# Rows per INSERT (7 parameters each, well under either database's limit).
ENSURE_CHUNK = 4000


def ensure(*, session: Session, contacts: Iterable[NeedsTask], case_area: str,
           now: datetime | None = None, fresh: bool = False) -> int:
    """Give every close contact without a task one, due in 24 hours; return how many.

    One INSERT ... ON CONFLICT (contact_id) DO NOTHING: a contact that has its task
    keeps it (and its notes), whoever made it, with no read first.

    fresh: every contact given was stored by this transaction for the first time, so
    none can have a task (no other transaction can see its id yet): a plain INSERT, no
    conflict check (a commuter's 779 tasks 16.2 -> 14.0 ms of PostgreSQL CPU, replayed).
    """
    now = now or utcnow()
    close = [c for c in contacts if c.kind == "close"]
    if close and session.get_bind().dialect.name == "postgresql":
        return _ensure_pg(session, close, case_area, now, fresh)
    rows = [{"id": uuid.uuid4(), "contact_id": c.id, "area_code": c.area_code or case_area,
             "due_at": now + DUE_IN, "status": "not_reached", "notes": "", "created_at": now}
            for c in close]
    made = 0
    for i in range(0, len(rows), ENSURE_CHUNK):
        stmt = dialect_insert(session)(TracingTask).values(rows[i:i + ENSURE_CHUNK])
        if not fresh:
            stmt = stmt.on_conflict_do_nothing(index_elements=["contact_id"])
        made += len(session.execute(stmt.returning(TracingTask.id)).all())
    return made


# PostgreSQL: the rows as two arrays (one statement, one plan whatever their number).
# SQLAlchemy's multi-row VALUES compiled 7 bind parameters per row in Python: 130 ms of
# CPU for a run with a few hundred new close contacts (cProfile, 200k registrations).
# The arrays go in binary (%b): as text, psycopg runs every element through its quoting
# regex, 2.8 ms of the 3.7 it took to send a commuter's 779 tasks. The task ids are made
# by the database (v4, as uuid.uuid4 made them here) and the count is the row count:
# making, sending and reading back 779 ids was about a third of the tasks' Python time.
_PG_ENSURE = """
INSERT INTO tracing_tasks (id, contact_id, area_code, due_at, status, notes, created_at)
SELECT gen_random_uuid(), u.contact_id, u.area_code, %(due)s, 'not_reached', '', %(now)s
FROM unnest(%(contacts)b::uuid[], %(areas)b::text[]) AS u(contact_id, area_code)
ON CONFLICT (contact_id) DO NOTHING"""
_PG_ENSURE_FRESH = _PG_ENSURE.replace("\nON CONFLICT (contact_id) DO NOTHING", "")


def _ensure_pg(session: Session, close: list[NeedsTask], case_area: str, now: datetime,
               fresh: bool) -> int:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(_PG_ENSURE_FRESH if fresh else _PG_ENSURE, {
            "due": now + DUE_IN, "now": now, "contacts": [c.id for c in close],
            "areas": [c.area_code or case_area for c in close]})
        return cur.rowcount


def _scope(principal: Principal, permission: str) -> ColumnElement[bool]:
    prefixes = principal.area_scopes(permission)
    if prefixes is None:
        return true()
    if not prefixes:
        return ~true()
    return or_(*(TracingTask.area_code.like(p + "%") for p in prefixes))


def get_for(*, session: Session, principal: Principal, task_id: uuid.UUID,
            permission: str = "contact.view") -> TracingTask:
    """The task, if the principal covers its area (else 404: outsiders learn nothing)."""
    task = session.get(TracingTask, task_id)
    if task is None or not principal.covers_area(permission, task.area_code):
        raise NotFound("No such tracing task.")
    return task


def set_status(*, session: Session, principal: Principal, task_id: uuid.UUID, status: str,
               note: str = "", now: datetime | None = None) -> TracingTask:
    """Move a task to a status and append a note (both officials' notes are kept)."""
    if status not in TASK_STATUSES:
        raise ValidationFailed(BAD_STATUS, fields={"status": BAD_STATUS})
    note = (note or "").strip()
    get_for(session=session, principal=principal, task_id=task_id, permission="contact.manage")
    # Two officials updating the same task at once would each append their note to the
    # notes they read, and the later write would drop the earlier note: lock the row,
    # then read notes and reached_at again under the lock.
    task = locked(session, TracingTask, task_id)
    if task is None:
        raise NotFound("No such tracing task.")
    if len(task.notes) + len(note) > NOTES_MAX:
        raise ValidationFailed(TOO_LONG, fields={"note": TOO_LONG})
    now = now or utcnow()
    before = task.status
    if status == before and not note:
        return task  # saved unchanged: nothing recorded about the person changed
    task.status = status
    if status != "not_reached" and task.reached_at is None:
        task.reached_at = now
    if note:
        stamp = now.strftime("%Y-%m-%d %H:%M")
        line = f"[{stamp} {principal.display_name}] {note}"
        task.notes = f"{task.notes}\n{line}" if task.notes else line
    task.updated_at = now
    session.flush()
    # What is recorded about the contact changed (reached, quarantined, tested): the
    # person finds who did it in their access log. The note stays in the task.
    audit_service.record(session=session, actor=principal, action="contact.task",
                         resource_type="tracing_task", resource_id=task.id,
                         subject_person_id=session.scalar(select(Contact.person_id).where(
                             Contact.id == task.contact_id)),
                         detail={"from": before, "to": status, "noted": bool(note)})
    return task


@dataclass(frozen=True)
class TaskRow:
    """A task with the contact it is about (for lists)."""

    task: TracingTask
    contact: Contact


def page(*, session: Session, principal: Principal, overdue: bool = False,
         cursor: str | None = None, limit: int | None = None,
         now: datetime | None = None) -> tuple[list[TaskRow], str | None]:
    """The tasks over the principal's areas, oldest due first; overdue: not reached, late."""
    stmt = select(TracingTask).where(_scope(principal, "contact.view"))
    if overdue:
        stmt = stmt.where(*_overdue(now))
    tasks: list[TracingTask]
    tasks, nxt = paginate_query(session, stmt, [TracingTask.due_at, TracingTask.id],
                                cursor=cursor, limit=limit)
    contacts = {c.id: c for c in session.scalars(
        select(Contact).where(Contact.id.in_([t.contact_id for t in tasks])))}
    return [TaskRow(t, contacts[t.contact_id]) for t in tasks], nxt


def overdue_count(*, session: Session, principal: Principal,
                  now: datetime | None = None) -> int:
    """How many tasks over the principal's areas are late and not reached (the home tile's
    badge); one count on the (area, status, due) index."""
    return session.scalar(select(func.count()).select_from(TracingTask).where(
        _scope(principal, "contact.view"), *_overdue(now))) or 0


def _overdue(now: datetime | None) -> tuple[ColumnElement[bool], ...]:
    """Overdue: not reached and past due (the overdue list and the home tile's count)."""
    return TracingTask.status == "not_reached", TracingTask.due_at < (now or utcnow())


def reached_share(*, session: Session, case_id: uuid.UUID) -> tuple[int, int]:
    """(tasks reached within 24 h of being made, all tasks) for a case's contacts."""
    if session.get_bind().dialect.name == "postgresql":
        # Counted where the rows are: a commuter's case has ~700 tasks, and every listing
        # (the answer to a search too) fetched and compared them all in Python. SQLite
        # keeps times as text, so it compares them below.
        reached, total = session.execute(
            select(func.count().filter(TracingTask.reached_at - TracingTask.created_at
                                       <= DUE_IN), func.count())
            .select_from(TracingTask).join(Contact, Contact.id == TracingTask.contact_id)
            .where(Contact.case_id == case_id)).one()
        return int(reached), int(total)
    rows = session.execute(
        select(TracingTask.created_at, TracingTask.reached_at)
        .join(Contact, Contact.id == TracingTask.contact_id)
        .where(Contact.case_id == case_id)).all()
    reached = sum(1 for made, at in rows if at is not None and at - made <= DUE_IN)
    return reached, len(rows)


def by_contact(*, session: Session, contact_ids: list[uuid.UUID]) -> dict[uuid.UUID, TracingTask]:
    """Each contact's task, if it has one."""
    if not contact_ids:
        return {}
    return {t.contact_id: t for t in session.scalars(
        select(TracingTask).where(TracingTask.contact_id.in_(contact_ids)))}

