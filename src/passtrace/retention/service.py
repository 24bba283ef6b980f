"""Delete what is past its retention period, in short batches, each with its receipt.

A receipt is an audit entry (action `retention.delete`) written in the same transaction
as the deletion it describes: it commits or rolls back with it, it is chained like every
audit entry (so `passtrace audit verify` covers receipts too), and it needs no second
chain. Each names the kind, how many rows, the oldest and newest date deleted, the
cutoff, and the run (a UUID per run, plus whether the job runner or the CLI ran it).

On PostgreSQL registrations are partitioned by day (registrations.partitions) and go
by whole UTC days (the cutoff rounded down to its day's start): a run first drops each
day partition that lies wholly before the cutoff, with one receipt per
partition (`partition` names it, `rows` counts what it held), and the batches then
delete what is left by occurred_at: the default partition, rows whose device clock
put their id days away from their occurrence.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from passtrace.audit import chain
from passtrace.audit import service as audit
from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.db import writing
from passtrace.core.ids import uuid7
from passtrace.registrations import partitions
from passtrace.retention.kinds import KINDS, Kind

RECEIPT_ACTION = "retention.delete"
# A partition drop that cannot have its locks (partitions.DROP_LOCK_TIMEOUT) is tried
# this many times, this far apart, before the batches are left to delete its rows.
DROP_ATTEMPTS, DROP_PAUSE_S = 3, 0.5
log = logging.getLogger("passtrace.retention")


def _iso(value: datetime | date) -> str:
    return value.isoformat()


def delete_batch(*, session: Session, kind: Kind, cutoff: datetime | date, limit: int,
                 run_id: uuid.UUID, trigger: str) -> int:
    """Delete up to `limit` of the oldest rows of `kind` dated before `cutoff`, write
    their receipt, and return how many went (0: nothing left to delete).

    The race: two runners (the one in `serve` and a `retention run` from cron) read the
    same old rows, both delete them and both write a receipt, so the receipts claim
    twice the rows that went. Taking the audit chain's lock first (an advisory lock on
    PostgreSQL, the write lock on SQLite) makes the second batch wait until the first
    commits and then read only what is still there. The lock is held for one batch,
    so gate registrations wait at most that long.
    """
    chain.lock_head(session)
    table, dated, key = kind.table, kind.table.c[kind.dated_by], kind.table.c[kind.key]
    rows = session.execute(
        select(key, dated).where(dated < cutoff, kind.also())
        .order_by(dated).limit(limit)).all()
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    for child, fk, *via in kind.children:
        keys = via[0](ids) if via else ids
        session.execute(delete(child).where(child.c[fk].in_(keys)))
    session.execute(delete(table).where(key.in_(ids)))
    audit.record(session=session, actor=None, action=RECEIPT_ACTION, resource_type="retention",
                 resource_id=kind.name,
                 detail={"kind": kind.name, "rows": len(ids), "oldest": _iso(rows[0][1]),
                         "newest": _iso(rows[-1][1]), "cutoff": _iso(cutoff),
                         "run_id": str(run_id), "trigger": trigger})
    return len(ids)


@dataclass
class RunStats:
    """What one run deleted, per kind, and the receipts it wrote."""

    run_id: uuid.UUID
    deleted: dict[str, int] = field(default_factory=dict)
    receipts: int = 0
    # PostgreSQL: the registrations partitions dropped (their rows are in `deleted`).
    dropped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        done = ", ".join(f"{k}: {n}" for k, n in self.deleted.items() if n) or "nothing due"
        whole = f", {len(self.dropped)} day partitions dropped" if self.dropped else ""
        return f"retention run {self.run_id}: {done}{whole} ({self.receipts} receipts)"


def run(*, sessions: sessionmaker[Session], settings: Settings, trigger: str,
        now: datetime | None = None,
        progress: Callable[[Kind, int], None] | None = None) -> RunStats:
    """Delete everything past its period, one short transaction per batch.

    Idempotent: a second run finds nothing older than the cutoff and writes nothing.
    `progress(kind, n)` is told after each batch (the CLI's progress bar).
    """
    moment = now or utcnow()
    stats = RunStats(run_id=uuid7())
    # The partitions ahead too, so a deployment that runs retention from cron (job
    # runner off) still has them.
    partitions.keep_ahead(sessions, today=moment.date(),
                          days_ahead=settings.registration_partitions_ahead_days)
    with sessions() as session:
        by_day = partitions.is_partitioned(session)
    for kind in KINDS:
        cutoff = kind.cutoff(settings, moment)
        total = 0
        if kind.name == "registrations" and by_day:
            assert isinstance(cutoff, datetime)
            # Whole UTC days: a day's rows go when its partition is dropped, so the
            # batches must not eat into the day the cutoff falls in hour by hour (the
            # hourly run would leave the drop nothing to do). A row is kept at most one
            # day past the period (docs/security.md).
            cutoff = partitions.day_start(cutoff)
            for gone in drop_partitions(sessions=sessions, cutoff=cutoff,
                                        run_id=stats.run_id, trigger=trigger):
                total += gone.rows
                stats.receipts += 1
                stats.dropped.append(gone.name)
                if progress is not None:
                    progress(kind, gone.rows)
        for count in _batches(sessions, kind, cutoff, settings.retention_batch_size,
                              stats.run_id, trigger):
            total += count
            stats.receipts += 1
            if progress is not None:
                progress(kind, count)
        stats.deleted[kind.name] = total
    return stats


def drop_partitions(*, sessions: sessionmaker[Session], cutoff: datetime,
                    run_id: uuid.UUID, trigger: str) -> Iterator[partitions.Dropped]:
    """Drop each registrations partition wholly before `cutoff`, one transaction and one
    receipt each (PostgreSQL; nothing elsewhere). A partition holding a row that occurred
    after the cutoff is kept (the batches delete its older rows)."""
    with sessions() as session:
        if not partitions.is_partitioned(session):
            return
        due = partitions.droppable(session, cutoff)
    for partition in due:
        for attempt in range(DROP_ATTEMPTS):
            try:
                with sessions(info=writing()) as session:
                    gone = partitions.drop(session, partition, cutoff)
                    if gone is not None:
                        # The receipt after the drop, under the chain's lock, in its
                        # transaction: both commit or neither.
                        chain.lock_head(session)
                        _drop_receipt(session, gone, cutoff, run_id, trigger)
                    session.commit()
            except OperationalError as exc:  # a lock not had in time
                log.warning("retention: %s not dropped (attempt %s): %s", partition.name,
                            attempt + 1, exc.orig)
                time.sleep(DROP_PAUSE_S)
                continue
            if gone is not None:
                yield gone
            break


def _drop_receipt(session: Session, gone: partitions.Dropped, cutoff: datetime,
                  run_id: uuid.UUID, trigger: str) -> None:
    audit.record(session=session, actor=None, action=RECEIPT_ACTION,
                 resource_type="retention", resource_id="registrations",
                 detail={"kind": "registrations", "rows": gone.rows,
                         "oldest": _iso(gone.oldest) if gone.oldest else None,
                         "newest": _iso(gone.newest) if gone.newest else None,
                         "cutoff": _iso(cutoff), "run_id": str(run_id), "trigger": trigger,
                         "partition": gone.name, "method": "drop partition"})


def _batches(sessions: sessionmaker[Session], kind: Kind, cutoff: datetime | date,
             limit: int, run_id: uuid.UUID, trigger: str) -> Iterator[int]:
    while True:
        with sessions(info=writing()) as session:
            count = delete_batch(session=session, kind=kind, cutoff=cutoff, limit=limit,
                                 run_id=run_id, trigger=trigger)
            session.commit()
        if count == 0:
            return
        yield count
        if count < limit:
            return


def due_counts(*, session: Session, settings: Settings,
               now: datetime | None = None) -> dict[str, int]:
    """How many rows of each kind are past their period now (the progress bar's total)."""
    moment = now or utcnow()
    by_day = partitions.is_partitioned(session)
    out = {}
    for kind in KINDS:
        dated = kind.table.c[kind.dated_by]
        cutoff = kind.cutoff(settings, moment)
        if kind.name == "registrations" and by_day:
            assert isinstance(cutoff, datetime)
            cutoff = partitions.day_start(cutoff)  # whole days (see run)
        out[kind.name] = session.scalar(
            select(func.count()).select_from(kind.table)
            .where(dated < cutoff, kind.also())) or 0
    return out


@dataclass(frozen=True)
class KindStatus:
    """One line of `passtrace retention status`."""

    kind: str
    rows: int
    oldest: datetime | date | None
    period_days: int
    # When the oldest row kept falls due (None: nothing kept; past: the next run deletes).
    next_due: datetime | date | None


def status(*, session: Session, settings: Settings) -> list[KindStatus]:
    """Per kind: rows kept, the oldest, the period, and when the next deletion is due."""
    out = []
    for kind in KINDS:
        dated = kind.table.c[kind.dated_by]
        rows, oldest = session.execute(
            select(func.count(), func.min(dated)).select_from(kind.table)
            .where(kind.also())).one()
        days = kind.period_days(settings)
        out.append(KindStatus(kind.name, int(rows), oldest, days,
                              oldest + timedelta(days=days) if oldest is not None else None))
    return out


@dataclass(frozen=True)
class PartitionStatus:
    """One registrations partition in `passtrace retention status` (PostgreSQL)."""

    name: str
    day: date | None  # None: the default partition (emptied in batches, never dropped)
    rows: int
    # When the run drops it: the day's end plus the period (a row in it that occurred
    # later keeps it until that row falls due).
    drop_due: datetime | None


def partition_status(*, session: Session, settings: Settings) -> list[PartitionStatus]:
    """The registrations partitions kept, their rows, and when each is dropped."""
    if not partitions.is_partitioned(session):
        return []
    rows = {str(name): int(n) for name, n in session.execute(text(
        f"SELECT tableoid::regclass::text, count(*) FROM {partitions.TABLE} GROUP BY 1"))}
    period = timedelta(days=settings.retention_days)
    return [PartitionStatus(p.name, p.day, rows.get(p.name, 0),
                            p.ends + period if p.ends is not None else None)
            for p in partitions.partitions(session)]


def receipts(*, session: Session, limit: int = 50) -> list[dict[str, Any]]:
    """The newest receipts' details (newest first)."""
    entries = audit.list_entries(session=session, resource_type="retention", limit=limit)
    return [dict(e.detail, at=e.at.isoformat()) for e in entries
            if e.action == RECEIPT_ACTION]
