"""Table upkeep the job runner does itself, because autovacuum may be off (PostgreSQL).

Some deployments run PostgreSQL with autovacuum off (CI and machines like it: the
`autovacuum = off` in a conf.d file), and even with it on, its thresholds wake late for
small tables that churn. Two kinds of table suffer:

- the dashboard's append-only delta tables (`registration_hour_deltas`,
  `staff_count_deltas`, and `registration_ahead`, whose rows a fold deletes once their
  time has passed): every fold deletes their rows, so without VACUUM they grow
  by every registration's delta forever as dead rows, and the fold's scan and the
  readers' "totals + unfolded deltas" sum read every dead row too;
- tables written all day (stays, outings, the outbox, the folded counters ...): never
  analysed, the planner keeps the row counts of the day they were created (often 0)
  and picks plans for an empty table.

So every run VACUUMs a delta table once its dead rows pass 1,000 + 20 % of its rows,
and ANALYZEs a listed table once its rows changed since its last analysis pass
1,000 + 10 % (autovacuum's rules with a higher floor, read from pg_stat_user_tables).
Neither is done to one table twice within AGAIN_AFTER (whoever did it last: this job,
another runner, autovacuum or an operator), so a table written faster than the job runs
is not vacuumed or analysed on every tick. VACUUM is never FULL (that rewrites the table
under an exclusive lock); both use SKIP_LOCKED, so a table another runner is already
doing is skipped, not waited for. The registrations day partitions have their own job
(registrations/partition_stats.py). On SQLite this does nothing: it has no dead tuples
to speak of (deleted pages are reused) and plans without statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from passtrace.core.runtime import Runtime

# Append-only tables a fold empties: VACUUMed when their dead rows pile up.
VACUUM_TABLES = ("registration_hour_deltas", "staff_count_deltas", "registration_ahead")
# Tables written all day whose plans depend on their size: ANALYZEd when changed enough.
ANALYZE_TABLES = (
    "stays", "outings", "outbox_messages", "registration_hours", "staff_counts",
    "registration_ahead",
    "report_day_counts", "daily_reports", "passes", "auth_sessions", "login_failures",
    "supply_balances", "supply_ledger", "audit_entries", "visits", "deliveries",
    # A risk-area declaration writes an alert, a flag, a history entry and a status per
    # visitor (200k rows each for a county): left unanalysed, the dashboard's alert and
    # status figures were planned for the tables before it.
    "alerts", "status_flags", "status_history", "people", "case_contacts",
    "tracing_tasks",
)
MIN_DEAD = 1000
SHARE_DEAD = 0.2
MIN_CHANGED = 1000
SHARE_CHANGED = 0.1
AGAIN_AFTER = "60 seconds"

# One query for both lists; the names come from the constants above, never from input.
_DUE = text(
    "SELECT s.relname, s.n_dead_tup >= :min_dead + :share_dead * greatest(c.reltuples, 0)"
    " AND s.relname = ANY(:vacuum) AND coalesce(greatest(s.last_vacuum,"
    " s.last_autovacuum), '-infinity') < now() - CAST(:again AS interval),"
    " s.n_mod_since_analyze >= :min_changed + :share_changed * greatest(c.reltuples, 0)"
    " AND s.relname = ANY(:analyze) AND coalesce(greatest(s.last_analyze,"
    " s.last_autoanalyze), '-infinity') < now() - CAST(:again AS interval)"
    " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
    " WHERE s.schemaname = current_schema() AND s.relname = ANY(:tables)"
    " ORDER BY s.relname"
)


@dataclass
class Upkeep:
    """What one run did: the tables vacuumed and analysed."""

    vacuumed: list[str] = field(default_factory=list)
    analysed: list[str] = field(default_factory=list)


def due(conn: Connection, *, again: str = AGAIN_AFTER) -> tuple[list[str], list[str]]:
    """The tables to VACUUM and to ANALYZE now (read from the statistics views)."""
    rows = conn.execute(_DUE, {
        "min_dead": MIN_DEAD, "share_dead": SHARE_DEAD, "min_changed": MIN_CHANGED,
        "share_changed": SHARE_CHANGED, "again": again, "vacuum": list(VACUUM_TABLES),
        "analyze": list(ANALYZE_TABLES),
        "tables": sorted(set(VACUUM_TABLES) | set(ANALYZE_TABLES))}).all()
    known = set(VACUUM_TABLES) | set(ANALYZE_TABLES)
    # Kept only when they are ours: the names are then safe to put in the statement.
    return ([name for name, vac, _ in rows if vac and name in known],
            [name for name, _, ana in rows if ana and name in known])


def run(rt: Runtime, *, again: str = AGAIN_AFTER) -> Upkeep:
    """VACUUM and ANALYZE what is due; nothing on SQLite."""
    done = Upkeep()
    if rt.engine.dialect.name != "postgresql":
        return done
    # VACUUM cannot run inside a transaction block: each statement commits on its own.
    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        vacuum, analyze = due(conn, again=again)
        for name in vacuum:
            conn.execute(text(f"VACUUM (SKIP_LOCKED) {name}"))
            done.vacuumed.append(name)
        for name in analyze:
            conn.execute(text(f"ANALYZE (SKIP_LOCKED) {name}"))
            done.analysed.append(name)
    return done
