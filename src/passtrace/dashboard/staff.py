"""Active staff per enterprise for the report rate, without counting the employees.

Triggers on employees append each write's change to staff_count_deltas (migration
e3f5a7c9b1d2, dashboard/models.py); `fold` moves them into staff_counts. A reader
sums both tables in one statement (one snapshot), so each employee counts once
whatever a fold does meanwhile: the figure costs one row per enterprise in scope, not
one per employee.
"""

from __future__ import annotations

from sqlalchemy import Subquery, func, select, text, union_all
from sqlalchemy.orm import Session

from passtrace.dashboard.models import StaffCount, StaffCountDelta


def active_rows() -> Subquery:
    """(enterprise_id, n) rows whose sum per enterprise is its active staff."""
    return union_all(
        select(StaffCount.enterprise_id, StaffCount.n),
        select(StaffCountDelta.enterprise_id, StaffCountDelta.n),
    ).subquery("staff")


def fold(session: Session) -> int:
    """Move the deltas into staff_counts; the delta rows folded.

    Race: as the registration counts' fold (dashboard/rollup.py): on PostgreSQL the
    deletion and the addition are one statement (exactly the deltas it deleted are
    added; one committed meanwhile waits for the next fold) and folds take an advisory
    lock so two job runners fold one after the other; SQLite has one writer at a time.
    """
    upsert = "ON CONFLICT (enterprise_id) DO UPDATE SET n = staff_counts.n + excluded.n"
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('staff_counts'))"))
        folded = session.execute(
            text(
                "WITH gone AS (DELETE FROM staff_count_deltas RETURNING enterprise_id, n),"
                " added AS (INSERT INTO staff_counts (enterprise_id, n)"
                " SELECT enterprise_id, sum(n) FROM gone GROUP BY enterprise_id"
                f" ORDER BY enterprise_id {upsert} RETURNING 1)"
                " SELECT (SELECT count(*) FROM gone)"
            )
        ).scalar_one()
    else:
        last = session.scalar(select(func.max(StaffCountDelta.id))) or 0
        session.execute(
            text(
                "INSERT INTO staff_counts (enterprise_id, n) SELECT enterprise_id, sum(n)"
                f" FROM staff_count_deltas WHERE id <= :last GROUP BY enterprise_id {upsert}"
            ),
            {"last": last},
        )
        folded = session.execute(  # type: ignore[attr-defined]
            text("DELETE FROM staff_count_deltas WHERE id <= :last"), {"last": last}
        ).rowcount
    return int(folded or 0)
