"""How far back a check looks for a person's moves at a site, and the ids that hold them.

Two reads of a check look for a person's allowed in/out at one site: "already inside?"
(an "in" whose last move there was an "in", rules/decide.py) and the event after an "in"
(the end of the stay it opens, stays.py). Both only need the moves of one stay cap (the
site kind's, stays.cap_for; 12 h unless configured): an "in" with no "out" counts as a
stay only until its cap, so a person whose last "in" is older than the cap is no longer
inside, and an event after an "in" later than the cap leaves its stay ending at the cap.
Two set-based readers bound their reads the same way, per row, in SQL (`pg_ids_from`):
the import's stays (stays.pg_after_rows, from each person and site's earliest new move)
and trajectory verification (tracing/verify_sql.py, from each report's earliest window).

On PostgreSQL registrations are partitioned by the day of their id (partitions.py), and
a read bounded only by occurred_at visits every day's partition (about 12 µs each, ~33
of them with the retention window): a lower bound on the id lets PostgreSQL skip the
older ones. A registration's id is made when it occurred (the device's UUIDv7 at the
check, and an import's id from its occurred_at, registrations/imports.import_id), or
later (an id made on the server for an older event), never much before: ID_SLACK is
how much earlier than its occurrence an id may say and still be seen. A row whose id
says more than a day before its occurred_at (a device clock that jumped between the
two) would be invisible to these reads, so intake refuses it (`predates`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

ID_SLACK = timedelta(days=1)


def id_floor(moment: datetime) -> uuid.UUID:
    """The smallest UUID whose time part (UUIDv7: the first 48 bits, Unix ms) is `moment`."""
    ms = max(0, int(moment.timestamp() * 1000))
    return uuid.UUID(f"{ms:012x}{'0' * 20}")


def ids_from(since: datetime) -> uuid.UUID:
    """The lowest id a move that occurred at `since` or later can have (within ID_SLACK)."""
    return id_floor(since - ID_SLACK)


_SLACK_MS = int(ID_SLACK.total_seconds() * 1000)


def predates(ident: uuid.UUID, occurred_at: datetime) -> bool:
    """Whether a registration's id says it was made more than ID_SLACK before it occurred.

    The reads above would not see such a row, and keeping stays deletes the stays in a
    batch's scope before writing them anew from what they read: a row they cannot see
    would lose its stay. A device makes the id at the check, so no honest id says that;
    intake refuses it (ingest.parse_row, service.prepare) rather than store a row that
    every bounded read skips.
    """
    return (ident.int >> 80) < occurred_at.timestamp() * 1000 - _SLACK_MS


def pg_ids_from(at_sql: str) -> str:
    """`ids_from` as a PostgreSQL expression of a timestamptz expression.

    Compared with registrations.id inside a LATERAL read (`g.id >= ...` of an outer
    row's time), PostgreSQL prunes the older day partitions at run time, per outer row:
    the bound is then a parameter of the inner scan, not a constant of the plan.
    """
    slack_ms = int(ID_SLACK.total_seconds() * 1000)
    return (f"CAST(lpad(to_hex(GREATEST(0, floor(extract(epoch FROM ({at_sql})) * 1000) "
            f"- {slack_ms})::bigint), 12, '0') || '00000000000000000000' AS uuid)")
