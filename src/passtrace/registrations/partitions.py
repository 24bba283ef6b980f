"""Registrations by day on PostgreSQL: one partition per UTC day of the id's time.

The table is `PARTITION BY RANGE (id)`. A registration id is a UUIDv7 the device makes
at the check: its first 48 bits are the Unix time in milliseconds, and PostgreSQL
compares UUIDs byte by byte, so the ids of one UTC day lie between two UUIDs made of
the day's first millisecond (`day_bound`). Ranging on the id, not on occurred_at, keeps
the primary key (id) alone unique (a partition key must be in every unique index) and
so every write path's `ON CONFLICT (id)` as it is: a retried upload stays a no-op
whatever time it claims. docs/architecture.md ("Registrations by day") weighs this
against ranging on occurred_at.

A row whose id time is not a day we made a partition for (an id from before the
partitions, a device clock months off) lands in the DEFAULT partition. The retention
job goes by whole UTC days, drops a day's partition only once every row in it occurred
before the cutoff too, and deletes the rest (the default partition, a row whose device
clock made its id days apart from its occurrence) in batches by occurred_at, as on
SQLite, where the table stays one table.

Partitions are made ahead by the job runner (`create_ahead`, also at each retention
run): CREATE TABLE and then ATTACH, because ATTACH takes only a SHARE UPDATE EXCLUSIVE
lock on the parent, which gate writes (ROW EXCLUSIVE) do not wait for, where CREATE
TABLE ... PARTITION OF would hold them off for the whole statement.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from passtrace.core.db import writing

TABLE = "registrations"
PREFIX = "registrations_p"
DEFAULT = "registrations_default"
# \Z, not $: $ also matches before a final newline, and these names go into SQL unquoted.
_NAME = re.compile(r"^registrations_p(\d{8})\Z")
# pg_advisory_xact_lock key for making partitions ("PTPART" in ASCII).
LOCK_KEY = 0x505450415254
# How long a partition drop waits for a lock before it gives up for this run (the
# batch deletes then do its work). Short on purpose: DROP needs ACCESS EXCLUSIVE on
# the parent, and every gate write queued behind the request waits as long. Under
# PostgreSQL's deadlock_timeout (1 s), so a lock cycle with a gate's transaction (it
# holds the table and wants the audit chain; the drop holds the chain) ends with the
# drop giving up, never with the gate's check being the one aborted.
DROP_LOCK_TIMEOUT = "200ms"


def day_bound(day: date) -> uuid.UUID:
    """The smallest UUIDv7 of `day`'s first millisecond (UTC): a partition's lower bound."""
    ms = int(datetime.combine(day, time(), tzinfo=UTC).timestamp() * 1000)
    return uuid.UUID(f"{ms:012x}70008000000000000000")


def day_start(moment: datetime) -> datetime:
    """The start (UTC) of `moment`'s UTC day."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


def id_day(registration_id: uuid.UUID) -> date:
    """The UTC day of a UUIDv7's time part (the partition the row lands in)."""
    return datetime.fromtimestamp((registration_id.int >> 80) / 1000, tz=UTC).date()


def partition_name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def is_partition(name: str | None) -> bool:
    """A table the partitioning made (Alembic's autogenerate leaves these alone)."""
    return name == DEFAULT or bool(name and _NAME.match(name))


def partition_day(name: str) -> date | None:
    """The day of a day partition's name (None for any other name)."""
    found = _NAME.match(name)
    return datetime.strptime(found.group(1), "%Y%m%d").date() if found else None


def is_partitioned(session: Session) -> bool:
    """True on PostgreSQL once the migration made the table partitioned."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(session.scalar(text(
        "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(:t)"), {"t": TABLE}))


@dataclass(frozen=True)
class Partition:
    """One partition: its day (None for the default one)."""

    name: str
    day: date | None

    @property
    def ends(self) -> datetime | None:
        """The first moment after the day (None for the default partition)."""
        if self.day is None:
            return None
        return datetime.combine(self.day + timedelta(days=1), time(), tzinfo=UTC)


def partitions(session: Session) -> list[Partition]:
    """The partitions, by day (the default one last)."""
    names = session.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t)"), {"t": TABLE}).all()
    out = [Partition(name, partition_day(name)) for name in names]
    return sorted(out, key=lambda p: (p.day is None, p.day or date.min))


def create_ahead(session: Session, *, today: date, days_ahead: int,
                 since: date | None = None) -> list[str]:
    """Make the partitions of `since` (default: `today`) to `today + days_ahead` that do
    not exist yet; return their names. Flushes nothing else; the caller commits.

    The race: two runners (the one in `serve` and a `retention run` from cron) both
    see a day missing and both create it; the second CREATE fails on the name, or its
    ATTACH on the overlapping range. The transaction-scoped advisory lock makes the
    second wait until the first commits and then see the partitions it made.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    have = {p.name for p in partitions(session)}
    made = []
    day = since or today
    while day <= today + timedelta(days=days_ahead):
        name = partition_name(day)
        if name not in have:
            _create(session, day, default=DEFAULT in have)
            made.append(name)
        day += timedelta(days=1)
    return made


def _create(session: Session, day: date, *, default: bool) -> None:
    name, low, high = partition_name(day), day_bound(day), day_bound(day + timedelta(days=1))
    # LIKE without its indexes: ATTACH builds each partitioned index (and the primary
    # key) on the new table, and clones the foreign keys.
    session.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS "
                         "INCLUDING CONSTRAINTS)"))
    if default:
        # Rows of this day that came before its partition (a device clock far ahead)
        # wait in the default partition, and ATTACH refuses while they are there: move
        # them first, under the lock ATTACH takes on the default partition anyway (only
        # writes routed to it, rare, wait).
        session.execute(text(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE"))
        session.execute(text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE id >= :low AND id < :high "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"),
            {"low": low, "high": high})
    session.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} "
                         f"FOR VALUES FROM ('{low}') TO ('{high}')"))


@dataclass(frozen=True)
class Dropped:
    """What dropping one partition deleted (its deletion receipt's facts)."""

    name: str
    rows: int
    oldest: datetime | None
    newest: datetime | None


def droppable(session: Session, cutoff: datetime) -> list[Partition]:
    """Day partitions whose whole id range lies before the cutoff, oldest first."""
    return [p for p in partitions(session) if p.ends is not None and p.ends <= cutoff]


def drop(session: Session, partition: Partition, cutoff: datetime) -> Dropped | None:
    """Drop `partition` if every row in it occurred before `cutoff`; None if a row did
    not (a device clock behind by days: the batch deletes take the rest later). A lock
    not had within DROP_LOCK_TIMEOUT raises OperationalError: the caller rolls back and
    leaves the day to the next run. The caller writes the receipt in this transaction.

    The race: two runners list the same day as due; the second's LOCK would then meet a
    table the first dropped. The partitions' advisory lock (taken before the short lock
    timeout: it waits for the other drop as long as that takes) makes the second wait,
    then find the day gone and skip it.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    if session.scalar(text("SELECT to_regclass(:t)"), {"t": partition.name}) is None:
        return None
    session.execute(text(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'"))
    # Counted under a lock on this day only (late uploads of that day wait; today's
    # writes go elsewhere), so the receipt's count is what goes; the parent's
    # ACCESS EXCLUSIVE lock comes after, for the DROP alone.
    session.execute(text(f"LOCK TABLE {partition.name} IN SHARE MODE"))
    rows, oldest, newest = session.execute(text(
        f"SELECT count(*), min(occurred_at), max(occurred_at) FROM {partition.name}")).one()
    if newest is not None and newest >= cutoff:
        return None
    session.execute(text(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE"))
    session.execute(text(f"DROP TABLE {partition.name}"))
    return Dropped(partition.name, int(rows), oldest, newest)


def keep_ahead(sessions: sessionmaker[Session], *, today: date, days_ahead: int) -> list[str]:
    """Make today's partition and the next `days_ahead` days' (one short transaction);
    the names made (none: all there, or not PostgreSQL / not partitioned)."""
    with sessions(info=writing()) as session:
        if not is_partitioned(session):
            return []
        made = create_ahead(session, today=today, days_ahead=days_ahead)
        session.commit()
    return made


@dataclass(frozen=True)
class Span:
    """When a partition's rows occurred (an id may be made long after its occurrence, so
    the day in a partition's name does not bound them)."""

    name: str
    first: datetime
    last: datetime


def occurrence_spans(session: Session) -> list[Span]:
    """Each non-empty partition's span: two index descents a partition, one statement.

    A set-based reader of registrations over a known span of occurrences (the import's
    stays, a day's verification) reads only the partitions whose rows occurred in it
    (`relation`). Empty on SQLite and on a table that is not partitioned.
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    # Names from the catalog, kept only when they match _NAME or DEFAULT: no quoting.
    names = [p.name for p in partitions(session) if is_partition(p.name)]
    if not names:
        return []
    rows = session.execute(text(" UNION ALL ".join(
        f"SELECT '{n}', (SELECT min(occurred_at) FROM {n}), (SELECT max(occurred_at) FROM {n})"
        for n in names))).all()
    return [Span(*row) for row in rows if row[1] is not None]


def relation(spans: list[Span], first: datetime, last: datetime, columns: str, *,
             latest_first: bool = False) -> str:
    """What to read instead of `registrations` for rows that occurred in [first, last]:
    the partitions whose rows occurred then, as one table or a UNION ALL of `columns`
    (PostgreSQL flattens it: each probe runs on each partition's own indexes). Without
    spans (SQLite, nothing known), the table itself.

    Naming them, rather than a condition on the id that PostgreSQL prunes by, keeps the
    planner off the primary key: with `id BETWEEN ...` it took a bitmap AND of the
    primary key and the time index for a per-stop probe (10x slower).
    """
    # `latest_first` (verification): an EXISTS probe ("did the area record anyone") stops
    # at the first row found, and a local day's stops lie mostly in the later of its two
    # UTC days' partitions. Earliest first, each probe first searched the earlier one,
    # descending its index once for each of the area's sites, mostly to find nothing
    # (85 of a 2,000-report chunk's 600 ms at 10M registrations). The import's stays read
    # every row and sort them by time: it keeps the spans' own order (earliest first),
    # 14.0k against 16.5k rows/s the other way in a first comparison.
    ordered = sorted(spans, key=lambda s: s.last, reverse=True) if latest_first else spans
    keep = [s.name for s in ordered if s.first <= last and s.last >= first]
    if not keep:
        return TABLE
    if len(keep) == 1:
        return keep[0]
    return "(" + " UNION ALL ".join(f"SELECT {columns} FROM {n}" for n in keep) + ")"
