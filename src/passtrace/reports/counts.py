"""Per (enterprise, date, department) report counts behind the dashboard.

`bump` runs in the filing transaction, so a count commits or rolls back with the
report it counts (a duplicate filing that loses the unique-constraint race takes
its increment with it). Amending a report changes neither its date nor its
department, so only a new report moves a count. Anything that writes reports in
bulk (demo data, benchmarks, imports) calls `rebuild` afterwards.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from passtrace.reports.models import DailyReport, ReportDayCount


def bump(*, session: Session, enterprise_id: uuid.UUID, department_id: uuid.UUID,
         day: date, by: int = 1) -> None:
    """Add `by` to one department's count for a date (creating the row if needed)."""
    dialect = session.get_bind().dialect.name
    values = {"enterprise_id": enterprise_id, "report_date": day,
              "department_id": department_id, "submitted": by}
    keys = ["enterprise_id", "report_date", "department_id"]
    table = cast(Table, ReportDayCount.__table__)  # plain Core: no ORM bulk-insert path
    add = {"submitted": table.c.submitted + by}
    if dialect == "postgresql":
        session.execute(postgresql.insert(table).values(values)
                        .on_conflict_do_update(index_elements=keys, set_=add))
    elif dialect == "sqlite":
        session.execute(sqlite.insert(table).values(values)
                        .on_conflict_do_update(index_elements=keys, set_=add))
    else:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(dialect)


def rebuild(*, session: Session, enterprise_id: uuid.UUID | None = None) -> None:
    """Recount from the reports themselves (one enterprise, or all)."""
    gone = delete(ReportDayCount)
    source = (select(DailyReport.enterprise_id, DailyReport.report_date,
                     DailyReport.department_id, func.count())
              .group_by(DailyReport.enterprise_id, DailyReport.report_date,
                        DailyReport.department_id))
    if enterprise_id is not None:
        gone = gone.where(ReportDayCount.enterprise_id == enterprise_id)
        source = source.where(DailyReport.enterprise_id == enterprise_id)
    session.execute(gone)
    session.execute(insert(ReportDayCount).from_select(
        ["enterprise_id", "report_date", "department_id", "submitted"], source))
