"""HR admins adding staff to one enterprise while folds run: every active employee is
counted exactly once, and on PostgreSQL no writer waits on a counter (both databases,
committed data; dashboard/staff.py says why the deltas are append-only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from passtrace.dashboard import staff
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people import service as people_service
from tests.concurrency import is_postgres, race, tag
from tests.conftest import next_id_number


def _enterprise(rt: Any) -> tuple[Any, Any]:
    with rt.sessions() as session:
        ent = Enterprise(
            credit_code=f"RACE{tag()}".upper()[:18], name="并发企业", area_code="520102"
        )
        session.add(ent)
        session.flush()
        dept = Department(enterprise_id=ent.id, name="综合部")
        session.add(dept)
        session.commit()
        return ent.id, dept.id


def _hire(rt: Any, ent: Any, dept: Any, n: int) -> Any:
    def call(session: Any) -> None:
        for _ in range(n):
            person = people_service.register(
                session=session, vault=rt.vault, actor=None, id_number=next_id_number(), name="员工"
            )
            session.add(Employee(enterprise_id=ent, department_id=dept, person_id=person.id))
            session.flush()

    return call


def _fold(session: Any) -> None:
    staff.fold(session)


def _counts(rt: Any, ent: Any) -> tuple[int, int]:
    with rt.sessions() as session:
        rows = staff.active_rows()
        kept = session.scalar(
            select(func.coalesce(func.sum(rows.c.n), 0)).where(rows.c.enterprise_id == ent)
        )
        live = session.scalar(
            select(func.count())
            .select_from(Employee)
            .where(Employee.enterprise_id == ent, Employee.status == "active")
        )
    return int(kept or 0), int(live or 0)


def test_staff_added_while_folding_is_counted_once(committed_rt):
    rt = committed_rt
    ent, dept = _enterprise(rt)
    outcomes: list[str] = []
    for _ in range(4):
        outcomes += race(rt, _hire(rt, ent, dept, 5), _fold, _hire(rt, ent, dept, 5), _fold)
    assert not [o for o in outcomes if o not in ("ok", "busy")], outcomes
    if is_postgres(rt):
        assert set(outcomes) == {"ok"}, outcomes
    kept, live = _counts(rt, ent)
    assert live > 0 and kept == live
    with rt.sessions() as session:
        staff.fold(session)
        session.commit()
    assert _counts(rt, ent) == (live, live)
