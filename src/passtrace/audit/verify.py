"""Check the audit hash chain end to end and name the first entry where it breaks.

The main chain (lane 0) first, then each side lane (audit/lanes.py), each from its
genesis. Anchors on the main chain list side-lane heads; every anchored entry must
still be in its lane with the hash the anchor recorded, so a side lane cut short or
rewritten up to an anchor is a break too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.audit import chain, lanes
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
    """How far the chain held: entries checked, the main chain's last good link, the
    first break, and each side lane's head (when the check got that far)."""

    checked: int
    head_seq: int
    head_hash: str
    broken: Break | None
    side_heads: dict[int, tuple[int, str]] = field(default_factory=dict)


def count(session: Session) -> int:
    """How many entries the log holds (for a progress bar's total)."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def verify(*, session: Session, progress: Callable[[int], None] | None = None) -> Outcome:
    """Walk the log in chain order (lane, then position), streaming, recomputing every
    hash and checking the anchors."""
    table = AuditEntry.__table__
    stmt = (select(table).order_by(table.c.lane, table.c.seq)
            .execution_options(yield_per=BATCH))
    lane, expected_seq, prev_hash, checked = chain.MAIN_LANE, 1, chain.GENESIS, 0
    main_head = (0, chain.GENESIS)
    heads: dict[int, tuple[int, str]] = {}
    # lane -> position -> (hash the anchor recorded, the anchor's id and position)
    anchored: dict[int, dict[int, tuple[str, int, int]]] = {}

    def cut_short(lane_done: int, last_seq: int) -> Break | None:
        # An anchored position past the lane's last entry: its tail was removed.
        beyond = [(seq, a) for seq, a in anchored.get(lane_done, {}).items() if seq > last_seq]
        if not beyond:
            return None
        seq, (_, anchor_id, anchor_seq) = min(beyond)
        return Break(entry_id=anchor_id, position=anchor_seq,
                     problem=f"this anchor lists position {seq} of side lane {lane_done}, "
                             f"which ends at {last_seq}: entries were removed from it")

    def finish(broken: Break | None) -> Outcome:
        if progress is not None and checked % BATCH:
            progress(checked % BATCH)  # the bar stops where the check stopped
        return Outcome(checked, main_head[0], main_head[1], broken, heads)

    for row in session.execute(stmt).mappings():
        if row["lane"] != lane:
            broken = cut_short(lane, expected_seq - 1)
            if broken is not None:
                return finish(broken)
            for skipped in sorted(k for k in anchored if lane < k < row["lane"]):
                broken = cut_short(skipped, 0)
                if broken is not None:
                    return finish(broken)
            lane, expected_seq, prev_hash = row["lane"], 1, chain.GENESIS
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
            elif lane != chain.MAIN_LANE and row["seq"] in anchored.get(lane, {}) and \
                    anchored[lane][row["seq"]][0] != row["hash"]:
                problem = (f"an anchor recorded hash {anchored[lane][row['seq']][0][:16]}… "
                           f"at this position of side lane {lane}: the lane was rewritten")
        if problem is not None:
            return finish(Break(entry_id=row["id"], position=row["seq"], problem=problem))
        if lane == chain.MAIN_LANE and row["action"] == lanes.ANCHOR_ACTION:
            for k, (seq, h) in lanes.parse_anchor(row["detail"] or {}).items():
                anchored.setdefault(k, {})[seq] = (h, row["id"], row["seq"])
        checked += 1
        expected_seq += 1
        prev_hash = row["hash"]
        if lane == chain.MAIN_LANE:
            main_head = (row["seq"], row["hash"])
        else:
            heads[lane] = (row["seq"], row["hash"])
        if progress is not None and checked % BATCH == 0:
            progress(BATCH)
    for k in sorted(k for k in anchored if k >= lane):
        broken = cut_short(k, expected_seq - 1 if k == lane else 0)
        if broken is not None:
            return finish(broken)
    return finish(None)
