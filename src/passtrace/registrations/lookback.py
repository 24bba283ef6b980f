"""How far back a check looks for a person's moves at a site, and the ids that hold them.

Two reads of a check look for a person's allowed in/out at one site: "already inside?"
(an "in" whose last move there was an "in", rules/decide.py) and the event after an "in"
(the end of the stay it opens, stays.py). Both only need the moves of one stay cap (the
site kind's, stays.cap_for; 12 h unless configured): an "in" with no "out" counts as a
stay only until its cap, so a person whose last "in" is older than the cap is no longer
inside, and an event after an "in" later than the cap leaves its stay ending at the cap.

On PostgreSQL registrations are partitioned by the day of their id (partitions.py), and
a read bounded only by occurred_at visits every day's partition (about 12 µs each, ~33
of them with the retention window): a lower bound on the id lets PostgreSQL skip the
older ones. A registration's id is made when it occurred (the device's UUIDv7 at the
check, and an import's id from its occurred_at, registrations/imports.import_id), or
later (an id made on the server for an older event), never much before: ID_SLACK is
how much earlier than its occurrence an id may say and still be seen. A row whose id
says more than a day before its occurred_at (a device clock that jumped between the
two) is invisible to these two reads; every other read (tracing, stays rebuild,
retention) still sees it.
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
