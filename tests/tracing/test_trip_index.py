"""Same train or flight: the query reads one train's stops through the upper(ref) index,
and finds the same passengers as before (both databases)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from passtrace.reports.models import DailyReport, ReportStop
from passtrace.tracing import ties
from passtrace.tracing.colocation import Source
from tests.tracing.world import AREA, T0

DAY = T0.date()
CROWD = 6000  # other passengers that day, on 300 other trains: enough to make a scan cost
TRAINS = 300


def _travellers(session: Session, trips: list[tuple[str, str, str]]) -> list[str]:
    """Imported reports for DAY, one train stop each: (ref, seat, person hash) rows."""
    ids = [uuid.uuid4() for _ in trips]
    session.execute(
        insert(DailyReport),
        [
            {
                "id": rid,
                "report_date": DAY,
                "submitted_at": T0,
                "person_hash": who,
                "temperature": 36.5,
                "symptoms": [],
                "source": "import",
            }
            for rid, (_, _, who) in zip(ids, trips, strict=True)
        ],
    )
    session.execute(
        insert(ReportStop),
        [
            {
                "report_id": rid,
                "seq": 0,
                "area_code": AREA,
                "place": "",
                "arrive_at": T0,
                "mode": "train",
                "ref": ref,
                "seat": seat,
            }
            for rid, (ref, seat, _) in zip(ids, trips, strict=True)
        ],
    )
    return [who for _, _, who in trips]


def _trip_statements(session: Session, case_hash: str) -> tuple[list[str], list[tuple[str, Any]]]:
    """Run the same-trip lookup for the case; return what it found and the SQL it ran."""
    ran: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        ran.append((statement, params))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        found = ties.trips_many(
            session,
            sources=[Source(case_hash, T0 - timedelta(hours=1))],
            end=T0 + timedelta(hours=1),
        )
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return sorted(hit.person_hash for hit, _ in found[case_hash]), ran


def test_same_train_reads_the_train_through_its_index(session: Session) -> None:
    crowd = [
        (f"G{n % TRAINS + 2000}", f"05车{n % 20 + 1:02d}A", uuid.uuid4().hex) for n in range(CROWD)
    ]
    _travellers(session, crowd)
    case = uuid.uuid4().hex
    near = _travellers(
        session,
        [("G1234", "05车12A", case), ("g1234", "05-15F", "near1"), ("G1234", "05车09C", "near2")],
    )[1:]
    _travellers(
        session,
        [
            ("G1234", "05车16A", "far"),
            ("G1234", "06车12A", "other-car"),
            ("G12345", "05车12A", "other-train"),
        ],
    )
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("ANALYZE report_stops"))
        session.execute(text("ANALYZE daily_reports"))

    found, ran = _trip_statements(session, case)
    assert found == sorted(near)

    [(sql, params)] = [(s, p) for s, p in ran if "upper(report_stops.ref)" in s]
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    plan = "\n".join(
        str(row) for row in session.connection().exec_driver_sql(explain + sql, params)
    )
    assert "ix_report_stops_trip_ref" in plan, plan
