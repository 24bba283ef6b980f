"""The transactional outbox: anything that leaves the process is first a row here.

A business transaction calls `enqueue(...)`; the row commits (or rolls back) with the
rest of its work, so nothing is sent for work that did not happen and nothing is lost
for work that did. The job runner (passtrace.jobs) later claims due rows in a short
transaction of their own, sends them outside any transaction, and records the outcome.
See docs/jobs.md.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from passtrace.core.clock import utcnow
from passtrace.core.db import Base, CreatedMixin, IdMixin, dialect_insert
from passtrace.core.ids import uuid7

CHANNELS = ("webhook", "sms")


class OutboxMessage(IdMixin, CreatedMixin, Base):
    """One message waiting to leave, sent, or given up on (failed_at, last_error)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "processed_at", "failed_at",
                            "next_attempt_at"),)

    channel: Mapped[str] = mapped_column(String(16))
    # A retried business transaction enqueues the same key again: unique, so it is sent once.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # A claim: the runner holding lease_token may send until lease_until; after that
    # (the runner died mid-send) another runner may claim the row again.
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[uuid.UUID | None]


def enqueue(*, session: Session, channel: str, dedupe_key: str, payload: dict[str, Any],
            not_before: datetime | None = None) -> bool:
    """Write a message in the caller's transaction; False (and nothing written) when
    `dedupe_key` is already queued or sent, so a retried transaction never duplicates.

    Race: two transactions enqueueing the same key at once. One INSERT ... ON CONFLICT
    DO NOTHING against the unique key decides it (PostgreSQL makes the second wait for
    the first and then skip), never a SELECT followed by an INSERT.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("an outbox dedupe key is 1-200 characters")
    json.dumps(payload)  # refuse what the gateway could never be sent, here, not later
    stmt = dialect_insert(session)(OutboxMessage).values(
        id=uuid7(), channel=channel, dedupe_key=dedupe_key, payload=payload, attempts=0,
        next_attempt_at=not_before or utcnow(), created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage.id)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT here.
    return session.execute(stmt).scalar() is not None


def enqueue_many(*, session: Session, channel: str, messages: list[tuple[str, dict[str, Any]]]
                 ) -> int:
    """enqueue() for many (dedupe key, payload) pairs in one statement (a job's batch);
    returns how many were new. Same rules, same race handling."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    if not messages:
        return 0
    now = utcnow()
    rows = []
    for key, payload in messages:
        if not key or len(key) > 200:
            raise ValueError("an outbox dedupe key is 1-200 characters")
        json.dumps(payload)
        rows.append({"id": uuid7(), "channel": channel, "dedupe_key": key, "payload": payload,
                     "attempts": 0, "next_attempt_at": now, "created_at": now})
    stmt = dialect_insert(session)(OutboxMessage).on_conflict_do_nothing(
        index_elements=["dedupe_key"]).returning(OutboxMessage.id)
    return len(session.execute(stmt, rows).all())


@dataclass(frozen=True)
class Claimed:
    """A message a runner may send now (it holds the lease)."""

    id: uuid.UUID
    channel: str
    dedupe_key: str
    payload: dict[str, Any]
    attempts: int
    lease_token: uuid.UUID


def claim_due(*, session: Session, limit: int, lease_s: float,
              now: datetime | None = None) -> list[Claimed]:
    """Lease up to `limit` due messages to the caller; commit right after, then send.

    Race: two runners claiming the same row. PostgreSQL: the rows are picked FOR UPDATE
    SKIP LOCKED, so a second runner passes over rows the first is claiming instead of
    waiting for them, and re-checks the lease on any row it does lock. SQLite: the one
    UPDATE is atomic (one writer at a time), so its WHERE sees the other's lease.
    """
    now = now or utcnow()
    token = uuid7()
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.processed_at.is_(None), OutboxMessage.failed_at.is_(None),
                  OutboxMessage.next_attempt_at <= now,
                  (OutboxMessage.lease_until.is_(None)) | (OutboxMessage.lease_until < now))
           .order_by(OutboxMessage.next_attempt_at).limit(limit)
           .with_for_update(skip_locked=True))
    rows = session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(lease_token=token, lease_until=now + timedelta(seconds=lease_s),
                attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.dedupe_key,
                   OutboxMessage.payload, OutboxMessage.attempts)
        .execution_options(synchronize_session=False)).all()
    return [Claimed(id=r[0], channel=r[1], dedupe_key=r[2], payload=r[3], attempts=r[4],
                    lease_token=token) for r in rows]


def record_sent(*, session: Session, message: Claimed, now: datetime | None = None) -> bool:
    """Mark a sent message done; False if our lease was lost meanwhile (someone re-claimed)."""
    return session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id,
                                    OutboxMessage.lease_token == message.lease_token)
        .values(processed_at=now or utcnow(), lease_until=None, last_error=None)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)).scalar() is not None


def record_failure(*, session: Session, message: Claimed, error: str, retry: bool,
                   max_attempts: int, backoff_s: float, max_backoff_s: float,
                   now: datetime | None = None) -> bool:
    """Keep the error; retry after backoff_s * 2^(attempts-1) (capped) or give up.

    Gives up (failed_at set) when the channel said retrying cannot help or after
    `max_attempts`. Returns whether the message is given up on.
    """
    now = now or utcnow()
    give_up = not retry or message.attempts >= max_attempts
    delay = min(backoff_s * 2 ** (message.attempts - 1), max_backoff_s)
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id,
                                    OutboxMessage.lease_token == message.lease_token)
        .values(last_error=error[:500], lease_until=None,
                failed_at=now if give_up else None,
                next_attempt_at=now + timedelta(seconds=delay))
        .execution_options(synchronize_session=False))
    return give_up


def counts(*, session: Session) -> dict[str, int]:
    """How many messages are pending, sent and given up on, per state."""
    state = (select(
        func.count().filter(OutboxMessage.processed_at.is_(None),
                            OutboxMessage.failed_at.is_(None)),
        func.count().filter(OutboxMessage.processed_at.is_not(None)),
        func.count().filter(OutboxMessage.failed_at.is_not(None)),
        func.count().filter(OutboxMessage.processed_at.is_(None),
                            OutboxMessage.failed_at.is_(None),
                            OutboxMessage.attempts > 0)))
    pending, sent, failed, retrying = session.execute(state).one()
    return {"pending": pending, "retrying": retrying, "sent": sent, "failed": failed}


__all__ = ["CHANNELS", "Claimed", "OutboxMessage", "claim_due", "counts", "enqueue", "enqueue_many",
           "record_failure", "record_sent"]
