"""Check the audit hash chain end to end and name the first entry where it breaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.audit import chain
from passtrace.audit.models import AuditEntry

BATCH = 2000


@dataclass(frozen=True)
class Break:
    """The first entry that does not fit the chain, and what differs."""

    entry_id: int
    position: int
    problem: str


@dataclass(frozen=True)
class Outcome:
    """How far the chain held: entries checked, the last good link, the first break."""

    checked: int
    head_seq: int
    head_hash: str
    broken: Break | None


def count(session: Session) -> int:
    """How many entries the log holds (for a progress bar's total)."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def verify(*, session: Session, progress: Callable[[int], None] | None = None) -> Outcome:
    """Walk the log in chain order, streaming, recomputing every hash."""
    table = AuditEntry.__table__
    stmt = select(table).order_by(table.c.seq).execution_options(yield_per=BATCH)
    expected_seq, prev_hash, checked = 1, chain.GENESIS, 0
    for row in session.execute(stmt).mappings():
        problem = None
        if row["seq"] != expected_seq:
            what = "entries are missing" if row["seq"] > expected_seq else "an entry repeats"
            problem = f"position {row['seq']} where {expected_seq} was expected: {what} before it"
        elif row["prev_hash"] != prev_hash:
            problem = (f"prev_hash {row['prev_hash'][:16]}… differs from the previous entry's "
                       f"hash {prev_hash[:16]}…: an entry before it was removed, changed "
                       "or inserted")
        else:
            recomputed = chain.entry_hash(dict(row), prev_hash)
            if recomputed != row["hash"]:
                problem = (f"its fields hash to {recomputed[:16]}… but it stores "
                           f"{row['hash'][:16]}…: the entry was changed after it was written")
        if problem is not None:
            if progress is not None and checked % BATCH:
                progress(checked % BATCH)  # the bar stops where the break is
            return Outcome(checked, expected_seq - 1, prev_hash,
                           Break(entry_id=row["id"], position=row["seq"], problem=problem))
        checked += 1
        expected_seq += 1
        prev_hash = row["hash"]
        if progress is not None and checked % BATCH == 0:
            progress(BATCH)
    if progress is not None and checked % BATCH:
        progress(checked % BATCH)
    return Outcome(checked, expected_seq - 1, prev_hash, None)
