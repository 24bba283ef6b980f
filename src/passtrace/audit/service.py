"""Write and read the audit log (in the caller's transaction)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.audit import chain, pg_append
from passtrace.audit.models import AuditEntry
from passtrace.core.clock import utcnow
from passtrace.core.security import Principal


def _stored_form(detail: dict[str, Any] | None) -> dict[str, Any]:
    # Hash what the database will hand back (JSON: string keys, lists for tuples).
    return json.loads(json.dumps(detail or {})) if detail else {}


def record(
    *,
    session: Session,
    actor: Principal | None,
    action: str,
    resource_type: str,
    resource_id: str | uuid.UUID = "",
    subject_person_id: uuid.UUID | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; it commits or rolls back with the change it describes."""
    fields: dict[str, Any] = {
        "at": utcnow(),
        "actor_user_id": actor.user_id if actor else None,
        "actor_name": actor.username if actor else "system",
        "action": action,
        "resource_type": resource_type,
        "resource_id": str(resource_id),
        "subject_person_id": subject_person_id,
        "reason": reason,
        "detail": _stored_form(detail),
        "ip": actor.ip if actor else None,
    }
    chain.lock_head(session)
    chain.link([fields], chain.read_head(session))
    entry = AuditEntry(**fields)
    session.add(entry)
    session.flush()
    return entry


def entry_fields(actor: Principal | None, action: str, resource_type: str,
            resource_id: str | uuid.UUID, reason: str | None,
            detail: dict[str, Any] | None) -> dict[str, Any]:
    return {"at": utcnow(), "actor_user_id": actor.user_id if actor else None,
            "actor_name": actor.username if actor else "system", "action": action,
            "resource_type": resource_type, "resource_id": str(resource_id),
            "subject_person_id": None, "reason": reason, "detail": _stored_form(detail),
            "ip": actor.ip if actor else None}


def pg_cursor(session: Session) -> Any:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    return raw.cursor()


def locked_execute(session: Session, sql: str, params: tuple[Any, ...]) -> None:
    """Take the chain's lock, then run `sql` (which reads the head and appends after
    it), in one round trip (PostgreSQL).

    Race: two writers reading the same head fork the chain, so the head must be read
    after the lock is held (chain.lock_head). In READ COMMITTED a statement's snapshot
    is taken when it starts, so the lock cannot be taken inside the appending statement
    itself: a writer that waited there for the previous holder would still read the
    head from before that holder committed. So they stay two statements, but go in one
    pipeline: both are sent at once, the server runs them in order, and the second one
    starts (and takes its snapshot) only once the first has returned holding the lock.
    One network round trip instead of two, the same order on the server.
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as lock, raw.cursor() as cur, raw.pipeline():
        lock.execute(pg_append.LOCK_CHAIN, pg_append.LOCK_CHAIN_PARAMS)
        cur.execute(sql, params)


def append(*, session: Session, actor: Principal | None, action: str, resource_type: str,
           resource_id: str | uuid.UUID = "", reason: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """`record` without handing the entry back: on PostgreSQL the head is read and the
    entry hashed and written in one statement (audit/pg_append.py), after the lock."""
    if session.get_bind().dialect.name != "postgresql":
        record(session=session, actor=actor, action=action, resource_type=resource_type,
               resource_id=resource_id, reason=reason, detail=detail)
        return
    head, values = pg_append.params(entry_fields(actor, action, resource_type, resource_id,
                                            reason, detail))
    locked_execute(session, "WITH " + pg_append.HEAD_CTE
                   + pg_append.insert_sql("(SELECT 1) AS one"), (*head, *values))


def record_people(*, session: Session, actor: Principal | None, action: str,
                  resource_type: str, resource_id: str | uuid.UUID,
                  people: Iterable[uuid.UUID], reason: str | None = None,
                  detail: dict[str, Any] | None = None) -> int:
    """A read of many persons' data: one entry per person (their "who viewed my data"),
    the same fields for each; on PostgreSQL all of them in one statement, hashed in SQL
    (audit/pg_append.per_subject_sql), however many persons."""
    ids = sorted(set(people))
    if not ids:
        return 0
    if session.get_bind().dialect.name != "postgresql":
        return record_many(session=session, actor=actor, entries=[
            {"action": action, "resource_type": resource_type, "resource_id": resource_id,
             "subject_person_id": pid, "reason": reason, "detail": detail} for pid in ids])
    sql, params = pg_append.per_subject_sql(
        "SELECT unnest(%s::uuid[]) AS id",
        entry_fields(actor, action, resource_type, resource_id, reason, detail))
    locked_execute(session, sql, (ids, *params))
    return len(ids)


def record_reads(*, session: Session, actor: Principal | None, action: str,
                 resource_type: str, people: Iterable[tuple[object, uuid.UUID | None]],
                 detail: dict[str, Any] | None = None) -> int:
    """A list, detail or export read: one entry per person shown, in one INSERT.

    `people` holds (resource id, person id) pairs; a person shown twice gets one entry,
    and rows without a person record (an unknown visitor) get none.
    """
    seen: dict[uuid.UUID, object] = {}
    for resource_id, person_id in people:
        if person_id is not None and person_id not in seen:
            seen[person_id] = resource_id
    return record_many(session=session, actor=actor, entries=[
        {"action": action, "resource_type": resource_type, "resource_id": rid,
         "subject_person_id": pid, "detail": detail} for pid, rid in seen.items()])


def record_many(*, session: Session, actor: Principal | None,
                entries: list[dict[str, Any]]) -> int:
    """Append many entries in one statement (bulk imports); each dict holds record()'s fields.

    Keys: action, resource_type, and optionally resource_id, subject_person_id, reason, detail.
    """
    if not entries:
        return 0
    now = utcnow()
    rows = [{"at": now, "actor_user_id": actor.user_id if actor else None,
             "actor_name": actor.username if actor else "system",
             "ip": actor.ip if actor else None,
             "resource_id": str(e.get("resource_id", "")),
             "subject_person_id": e.get("subject_person_id"),
             "reason": e.get("reason"), "detail": _stored_form(e.get("detail")),
             "action": e["action"], "resource_type": e["resource_type"]} for e in entries]
    chain.lock_head(session)
    chain.link(rows, chain.read_head(session))
    if session.get_bind().dialect.name == "postgresql":
        copy_rows(session, "audit_entries", COPY_COLUMNS, rows)
    else:
        session.execute(insert(AuditEntry), rows)
    return len(rows)


COPY_COLUMNS = ("at", "actor_user_id", "actor_name", "action", "resource_type", "resource_id",
                "subject_person_id", "reason", "detail", "ip", "lane", "seq", "prev_hash",
                "hash")


def copy_rows(session: Session, table: str, columns: tuple[str, ...],
              rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: write `rows` (dicts holding `columns`) with one COPY in the session's
    transaction, after flushing what the session holds. An allocation writes thousands
    of entries at once; COPY costs a fraction of an executemany's per-row round trips
    and statement work. Dict values go in as JSON."""
    session.flush()
    names = ", ".join(columns)
    with pg_cursor(session) as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Json(v) if isinstance(v := row[c], dict) else v for c in columns])


def list_entries(
    *, session: Session, resource_type: str | None = None, resource_id: str | None = None,
    exclude_actions: tuple[str, ...] = (), limit: int = 200,
) -> list[AuditEntry]:
    """List entries, newest first, optionally for one resource."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if exclude_actions:
        stmt = stmt.where(AuditEntry.action.not_in(exclude_actions))
    if resource_type:
        stmt = stmt.where(AuditEntry.resource_type == resource_type)
    if resource_id:
        stmt = stmt.where(AuditEntry.resource_id == resource_id)
    return list(session.scalars(stmt))


