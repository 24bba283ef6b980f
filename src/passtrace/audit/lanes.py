"""Side lanes of the audit chain: hot paths append without one lock for the whole log.

Why: every audited write used to extend one chain under one lock (audit/chain.py),
held from the append to the commit. Eight clerks issuing stock at once then queued
behind each other's commits (issue p99 188 ms at load 8, 530 ms at load 10, against
65 ms for the same writes without the entry). A hot path appends instead to one of
chain.LANES side chains, each with its own lock: the writer takes the first free lane
(pg_try_advisory_xact_lock, one statement), so concurrent writers rarely wait, and
the lane's chain is exactly as tamper-evident as the main one (same hash, same
verify, plus the lane number in the hash).

What ties the lanes together: `anchor` appends to the main chain an entry listing
every side lane's head (position and hash), run by the job runner
(settings.audit_anchor_seconds) or `passtrace audit anchor`.
`verify` then requires each anchored entry to still be in its lane with that hash, so
removing or rewriting a side lane's entries, its tail included, up to the last anchor
breaks the check as it does on the main chain. Between two anchors a lane's newest
entries are as exposed as the main chain's newest ones always are (a rewrite from
there on forward is consistent); the anchor interval bounds that window.

SQLite has a single writer anyway; side lanes there only keep both databases alike.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.audit import chain, pg_append, service
from passtrace.audit.models import AuditEntry
from passtrace.core.security import Principal

ANCHOR_ACTION = "audit.anchor"

# The first side lane whose lock is free, trying them from `start` round; none when all
# are held. The LIMIT stops the scan at the first lock taken, so at most one is held.
_PICK = ("SELECT g.lane FROM (SELECT 1 + (%s + n) %% %s AS lane "
         "FROM generate_series(0, %s - 1) AS n) AS g "
         "WHERE pg_try_advisory_xact_lock(%s, g.lane) LIMIT 1")
_WAIT = "SELECT pg_advisory_xact_lock(%s, %s)"
_LANE_HEAD = ("a_head AS (SELECT COALESCE(l.seq, 0) + 1 AS seq, COALESCE(l.hash, %s) AS prev "
              "FROM (SELECT 1) AS one LEFT JOIN (SELECT seq, hash FROM audit_entries "
              "WHERE lane = %s ORDER BY seq DESC LIMIT 1) AS l ON true)")


def insert_sql(source: str = "a_head") -> str:
    """The INSERT of a side lane's entry, for a WITH statement that lists LANE_HEAD_CTE:
    one entry per row of `source` (which includes a_head). Its parameters follow
    LANE_HEAD_CTE's: see `params`."""
    values = ", ".join("%s::json" if c == "detail" else "%s" for c in pg_append.COLUMNS)
    return (f"INSERT INTO audit_entries ({', '.join(pg_append.COLUMNS)}, "
            f"lane, seq, prev_hash, hash) SELECT {values}, %s, a_head.seq, a_head.prev, "
            "encode(sha256(convert_to(%s::text || a_head.prev || %s::text || "
            f"a_head.seq::text || %s::text, 'UTF8')), 'hex') FROM {source}")


LANE_HEAD_CTE = _LANE_HEAD
INSERT_SQL = f"WITH {_LANE_HEAD} " + insert_sql()


def params(fields: dict[str, Any], lane: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """LANE_HEAD_CTE's parameters and insert_sql's, for an entry on `lane` (the caller
    holds the lane's lock, take_lane, taken in an earlier statement)."""
    head, values = pg_append.params(fields, lane=lane)
    n = len(pg_append.COLUMNS)
    return (*head, lane), (*values[:n], lane, *values[n:])


PICK_SQL, WAIT_SQL = _PICK, _WAIT


def pick_params(start: int) -> tuple[int, int, int, int]:
    """PICK_SQL's parameters, trying the lanes from `start` (0-based) round."""
    return (start, chain.LANES, chain.LANES, chain.PG_LANE_LOCK_CLASS)


def take_lane(cur: Any) -> int:
    """Lock a side lane for this transaction and return it (PostgreSQL cursor `cur`).

    The race: two writers extending one lane from the same head would fork it (the
    unique (lane, seq) then fails one at commit). The lane's advisory lock, taken in a
    statement before the one that reads the head (a statement's snapshot predates a
    lock it takes itself), makes a second writer of that lane wait for the first's
    commit; a writer finding every lane held waits for one, picked at random.
    """
    start = random.randrange(chain.LANES)
    row = cur.execute(_PICK, pick_params(start)).fetchone()
    if row is not None:
        return int(row[0])
    lane = 1 + start
    cur.execute(_WAIT, (chain.PG_LANE_LOCK_CLASS, lane))
    return lane


def sqlite_lane(session: Session) -> int:
    """SQLite: take the database's write lock (the same race as take_lane's, closed by
    SQLite's single writer) and pick a side lane."""
    chain.lock_head(session)
    return 1 + random.randrange(chain.LANES)


def append(*, session: Session, actor: Principal | None, action: str, resource_type: str,
           resource_id: str | uuid.UUID = "", reason: str | None = None,
           detail: dict[str, Any] | None = None,
           subject_person_id: uuid.UUID | None = None) -> None:
    """service.append for a hot path: the entry goes on a free side lane (PostgreSQL: two
    round trips, take the lane; hash and insert in one statement). `subject_person_id`:
    the person whose access log shows the entry (hashed like every field)."""
    fields = service.entry_fields(actor, action, resource_type, resource_id, reason, detail)
    fields["subject_person_id"] = subject_person_id
    if session.get_bind().dialect.name != "postgresql":
        lane = sqlite_lane(session)
        chain.link([fields], chain.read_lane_head(session, lane), lane)
        session.execute(insert(AuditEntry), [fields])
        return
    with service.pg_cursor(session) as cur:
        lane = take_lane(cur)
        head, values = params(fields, lane)
        cur.execute(INSERT_SQL, (*head, *values))


def side_heads(session: Session) -> dict[int, tuple[int, str]]:
    """Each side lane's head that has entries: lane -> (position, hash)."""
    heads = {lane: chain.read_lane_head(session, lane) for lane in range(1, chain.LANES + 1)}
    return {lane: head for lane, head in heads.items() if head[0]}


def last_anchor(session: Session) -> dict[int, tuple[int, str]]:
    """The side-lane heads the newest anchor recorded (empty before the first)."""
    detail = session.scalar(select(AuditEntry.detail).where(
        AuditEntry.lane == chain.MAIN_LANE, AuditEntry.action == ANCHOR_ACTION)
        .order_by(AuditEntry.seq.desc()).limit(1))
    return parse_anchor(detail or {})


def parse_anchor(detail: dict[str, Any]) -> dict[int, tuple[int, str]]:
    """An anchor entry's detail as lane -> (position, hash)."""
    return {int(k): (int(v[0]), str(v[1])) for k, v in (detail.get("lanes") or {}).items()}


def anchor(session: Session) -> int:
    """Record every side lane's head on the main chain, when one moved since the last
    anchor; return how many lanes it lists (0: nothing new, nothing written).

    Reads committed heads without the lanes' locks: a lane moving on meanwhile is fine,
    the anchor only says that entry was there with that hash.
    """
    heads = side_heads(session)
    if not heads or heads == last_anchor(session):
        return 0
    service.record(session=session, actor=None, action=ANCHOR_ACTION, resource_type="audit",
                   detail={"lanes": {str(k): [seq, h] for k, (seq, h) in sorted(heads.items())}})
    return len(heads)
