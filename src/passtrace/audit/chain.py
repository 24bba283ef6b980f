"""The audit hash chain: each entry carries the hash of the one before it.

An entry's hash is SHA-256 over a canonical JSON form of its fields and the previous
entry's hash, so changing, removing or inserting an entry breaks every link after it
(`passtrace audit verify` finds the first break). The canonical form is fixed for
good: changing it would break every chain already stored.

Lanes: the log is one main chain (lane 0, taken under one lock: every domain's writes)
plus a few side chains (lanes 1..LANES) that hot paths append to under a lock of their
own, so that eight clerks issuing stock do not queue behind one lock (audit/lanes.py).
A side-lane entry's hash covers its lane too; lane 0 hashes exactly as before lanes
existed, so the chains already stored still verify. A periodic anchor entry on the
main chain records every side lane's head (audit/lanes.py), tying the lanes together.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
# The fields a hash covers: everything an entry says, except its autoincrement id
# (assigned by the database after the hash is computed; `seq` is the position instead).
HASHED_FIELDS = ("seq", "at", "actor_user_id", "actor_name", "action", "resource_type",
                 "resource_id", "subject_person_id", "reason", "detail", "ip")
# Any constant will do: every writer of the audit log takes this one lock.
PG_LOCK_KEY = 0x7061_7373_7472_6163  # "passtrac"
MAIN_LANE = 0
# Side lanes: enough that the clients of one hot path rarely wait for each other
# (audit/lanes.py picks a free one), few enough that an anchor lists them all.
LANES = 16
# Side lane k's lock: the two-key advisory lock (PG_LANE_LOCK_CLASS, k). PostgreSQL
# keeps two-key and one-key advisory locks apart, so none of these is PG_LOCK_KEY.
PG_LANE_LOCK_CLASS = 0x7061_7373  # "pass"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def canonical(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    """The bytes an entry's hash is taken over."""
    doc = {name: _plain(fields.get(name)) for name in HASHED_FIELDS}
    doc["prev_hash"] = prev_hash
    if fields.get("lane"):
        # Only side lanes name their lane: the main chain's form predates lanes. Hashing
        # the lane stops an entry from being moved to another lane unnoticed.
        doc["lane"] = int(fields["lane"])
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """Hash one entry's fields with the previous entry's hash."""
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


def lock_head(session: Session) -> None:
    """Hold the chain head until this transaction ends.

    The race: two transactions read the same head and both append after it, forking
    the chain (the unique `seq` would then fail one of them at commit). Taking this
    lock before reading the head makes the second writer wait for the first to commit
    and then read the head that one wrote.
    """
    if session.get_bind().dialect.name == "postgresql":
        # A transaction-scoped advisory lock needs no privilege on the table, so the
        # application's insert-and-select-only role can take it (SELECT ... FOR UPDATE
        # would need UPDATE rights).
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
    else:
        # SQLite: a write statement (matching no row) takes the database's write lock
        # now; reading the head first and writing later would fail as a stale snapshot.
        session.execute(text("UPDATE audit_entries SET seq = seq WHERE 0"))


def read_head(session: Session) -> tuple[int, str]:
    """The main chain's last position and hash (0 and GENESIS for an empty log)."""
    return read_lane_head(session, MAIN_LANE)


def read_lane_head(session: Session, lane: int) -> tuple[int, str]:
    """One lane's last position and hash (0 and GENESIS when it has none yet)."""
    row = session.execute(text(
        "SELECT seq, hash FROM audit_entries WHERE lane = :lane ORDER BY seq DESC LIMIT 1"),
        {"lane": lane}).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def link(rows: list[dict[str, Any]], head: tuple[int, str], lane: int = MAIN_LANE
         ) -> tuple[int, str]:
    """Give each row its lane, position, previous hash and hash, in order; return the
    new head."""
    seq, prev = head
    for row in rows:
        seq += 1
        row["lane"] = lane
        row["seq"] = seq
        row["prev_hash"] = prev
        row["hash"] = prev = entry_hash(row, prev)
    return seq, prev
