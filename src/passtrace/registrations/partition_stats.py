"""Fresh planner statistics for the registrations day partitions (PostgreSQL).

A check's look-back ("already inside?", lookback.py) asks for a person's newest allowed
in/out at one site: ORDER BY occurred_at DESC LIMIT 1 over the day partitions. With
statistics, PostgreSQL walks each partition's (person, site, time) index backwards,
merges them and stops at the first row: about ten buffers. A partition never analysed
(each new day's, and every one while autovacuum is off or has not come round yet) is
planned as if the person had one move there, so PostgreSQL reads all of the person's
moves of the last cap and sorts them. After a 100,000-row batch upload that was 2,000
rows and 1,528 buffers (1.3 ms) per check, which doubled the database CPU of a check
(docs/checkpoint.md, "Planner statistics").

So the job runner analyses a partition once it has changed by a share of its size since
it was last analysed (autovacuum's rule), every few seconds and whether or not autovacuum
runs. While a young partition fills fast (a large batch upload), that rule would analyse
it at every run: then it waits a minute, unless the partition has doubled since (the
plan needs the order of magnitude of a person's moves, not the exact count). A check
pays nothing for it; ANALYZE reads a sample of at most 30,000 rows (about 100 ms of
CPU at 100,000 rows), and its lock lets writes go on.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from passtrace.registrations import partitions

# Analysed again once this many rows changed, plus this share of its rows (autovacuum's
# defaults are 50 and 0.1: a small floor would analyse a young partition every tick),
# but not twice within AGAIN_AFTER unless it has doubled since.
MIN_CHANGED = 1000
SHARE_CHANGED = 0.1
AGAIN_AFTER = "60 seconds"

_STALE = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE i.inhparent = to_regclass(:t) "
    "AND s.n_mod_since_analyze >= :least + :share * greatest(c.reltuples, 0) "
    "AND (s.n_mod_since_analyze >= :least + greatest(c.reltuples, 0) "
    "OR coalesce(greatest(s.last_analyze, s.last_autoanalyze), '-infinity') "
    "< now() - CAST(:again AS interval)) "
    "ORDER BY s.n_mod_since_analyze DESC"
)


def stale(session: Session) -> list[str]:
    """The partitions changed enough since their last ANALYZE, most changed first."""
    names = session.scalars(
        _STALE,
        {"t": partitions.TABLE, "least": MIN_CHANGED, "share": SHARE_CHANGED, "again": AGAIN_AFTER},
    ).all()
    # Names from the catalog, kept only when they are ours: no quoting needed below.
    return [n for n in names if partitions.is_partition(n)]


def analyze_stale(sessions: sessionmaker[Session]) -> list[str]:
    """ANALYZE the stale partitions, each in its own short transaction; their names
    (none on SQLite or an unpartitioned table)."""
    with sessions() as session:
        if not partitions.is_partitioned(session):
            return []
        names = stale(session)
    done = []
    for name in names:
        with sessions() as session:
            # SKIP_LOCKED: a second runner analysing it, or a partition being attached
            # or dropped, is not waited for; the next run looks again. The lock is held
            # to the commit, so one statement per transaction.
            try:
                session.execute(text(f"ANALYZE (SKIP_LOCKED) {name}"))
            except ProgrammingError:
                # Dropped by retention since it was listed: the others still need it.
                session.rollback()
                continue
            session.commit()
        done.append(name)
    return done
