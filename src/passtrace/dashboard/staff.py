"""Active staff per enterprise for the report rate, without counting the employees.

Triggers on employees append each write's change to staff_count_deltas (migration
e3f5a7c9b1d2, dashboard/models.py); `fold` moves them into staff_counts. A reader
sums both tables in one statement (one snapshot), so each employee counts once
whatever a fold does meanwhile: the figure costs one row per enterprise in scope, not
one per employee.
"""

from __future__ import annotations

from sqlalchemy import Subquery, select, union_all
from sqlalchemy.orm import Session

from passtrace.dashboard import deltas
from passtrace.dashboard.models import StaffCount, StaffCountDelta


def active_rows() -> Subquery:
    """(enterprise_id, n) rows whose sum per enterprise is its active staff."""
    return union_all(
        select(StaffCount.enterprise_id, StaffCount.n),
        select(StaffCountDelta.enterprise_id, StaffCountDelta.n),
    ).subquery("staff")


def fold(session: Session) -> int:
    """Move the deltas into staff_counts; the delta rows folded (dashboard/deltas.py,
    which names the race and how it is prevented)."""
    return deltas.fold(session, deltas="staff_count_deltas", totals="staff_counts",
                       keys="enterprise_id", sums=("n",))
