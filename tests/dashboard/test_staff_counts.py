"""The active staff the report rate divides by, kept by triggers (dashboard/staff.py),
equals a count of the employees after every kind of write, folded or not (both
databases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from passtrace.dashboard import staff
from passtrace.dashboard.models import StaffCountDelta
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people import service as people_service
from tests.conftest import next_id_number
from tests.dashboard.test_figures import official, read


def _enterprise(session: Any, code: str, area: str) -> tuple[Enterprise, Department]:
    ent = Enterprise(credit_code=code, name="测试企业", area_code=area)
    session.add(ent)
    session.flush()
    dept = Department(enterprise_id=ent.id, name="综合部")
    session.add(dept)
    session.flush()
    return ent, dept


def _hire(session: Any, rt: Any, ent: Enterprise, dept: Department, n: int) -> list[Employee]:
    hired = []
    for _ in range(n):
        person = people_service.register(
            session=session, vault=rt.vault, actor=None, id_number=next_id_number(), name="员工"
        )
        hired.append(Employee(enterprise_id=ent.id, department_id=dept.id, person_id=person.id))
    session.add_all(hired)
    session.flush()
    return hired


def _kept(session: Any, ent: Enterprise) -> int:
    rows = staff.active_rows()
    return int(
        session.scalar(
            select(func.coalesce(func.sum(rows.c.n), 0)).where(rows.c.enterprise_id == ent.id)
        )
        or 0
    )


def _live(session: Any, ent: Enterprise) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Employee)
            .where(Employee.enterprise_id == ent.id, Employee.status == "active")
        )
        or 0
    )


def test_hiring_leaving_returning_and_removing_staff_keep_the_count_exact(session, rt):
    ent, dept = _enterprise(session, "91520102MA6STAFF1X", "520102")
    hired = _hire(session, rt, ent, dept, 6)  # one flush: a multi-row insert
    assert _kept(session, ent) == _live(session, ent) == 6
    staff.fold(session)
    assert session.scalar(select(func.count()).select_from(StaffCountDelta)) == 0
    assert _kept(session, ent) == 6

    session.execute(
        update(Employee).where(Employee.id.in_([e.id for e in hired[:2]])).values(status="left")
    )
    assert _kept(session, ent) == _live(session, ent) == 4
    # An update that changes no one's being active (a renumbering) counts nothing.
    session.execute(
        update(Employee).where(Employee.enterprise_id == ent.id).values(employee_no="X")
    )
    assert _kept(session, ent) == 4
    session.execute(update(Employee).where(Employee.id == hired[0].id).values(status="active"))
    session.execute(delete(Employee).where(Employee.id == hired[5].id))
    assert _kept(session, ent) == _live(session, ent) == 4
    staff.fold(session)
    staff.fold(session)  # a fold with nothing to fold changes nothing
    assert _kept(session, ent) == _live(session, ent) == 4


def test_the_dashboards_report_rate_divides_by_the_scopes_active_staff(session, rt):
    mine, dept = _enterprise(session, "91520102MA6STAFF2X", "520102")
    other, other_dept = _enterprise(session, "91520103MA6STAFF3X", "520103")
    before = read(session, official()).reports.expected
    _hire(session, rt, mine, dept, 3)
    _hire(session, rt, other, other_dept, 5)  # another district's: not in ours
    assert read(session, official()).reports.expected == before + 3
    staff.fold(session)
    assert read(session, official()).reports.expected == before + 3
