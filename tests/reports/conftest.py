"""A small enterprise with two departments, employees bound to logins, and supervisors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from passtrace.core import clock
from passtrace.core.clock import LOCAL_TZ
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people import claims

CODE = "91520102MA6J5GQX4T"
OTHER_CODE = "91520103MA7K8L9M1X"


def local(day: date, hhmm: str) -> str:
    """An ISO datetime for a local (China) time on a day."""
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(day, time(h, m), LOCAL_TZ).isoformat()


def commute(day: date) -> list[dict[str, Any]]:
    """Home -> office by metro -> home by bus."""
    return [
        {"area_code": "520102006001", "place": "家", "arrive_at": local(day, "00:00"),
         "depart_at": local(day, "08:00")},
        {"area_code": "520103003", "place": "公司", "arrive_at": local(day, "08:40"),
         "depart_at": local(day, "17:30"), "mode": "metro"},
        {"area_code": "520102006001", "place": "家", "arrive_at": local(day, "18:10"),
         "mode": "bus"},
    ]


@dataclass
class Staff:
    persona: Any
    employee: Employee


@dataclass
class World:
    ent: Enterprise
    other: Enterprise
    depts: dict[str, Department]
    staff: dict[str, Staff] = field(default_factory=dict)
    admin: Any = None
    head: Any = None  # head of 销售部
    outsider: Any = None

    @property
    def today(self) -> date:
        return clock.utcnow().astimezone(LOCAL_TZ).date()


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    """Freeze the clock; tests move it with frozen(datetime)."""
    def at(moment: datetime) -> None:
        clock.freeze(moment)
    yield at
    clock.freeze(None)


@pytest.fixture
def world(session, make_persona, frozen, rt) -> World:  # type: ignore[no-untyped-def]
    # 2026-11-20 19:00 China time: past the 09:30 deadline, and after the commute's last
    # stop began (18:10): a report names only places already been to.
    frozen(datetime(2026, 11, 20, 11, 0, tzinfo=UTC))
    ent = Enterprise(credit_code=CODE, name="贵州黔味食品有限公司", area_code="520102006",
                     report_deadline=time(9, 30))
    other = Enterprise(credit_code=OTHER_CODE, name="贵阳云岩物流有限公司",
                       area_code="520103003")
    session.add_all([ent, other])
    session.flush()
    depts = {n: Department(enterprise_id=ent.id, name=n) for n in ("生产部", "销售部")}
    depts["仓储部"] = Department(enterprise_id=other.id, name="仓储部")
    session.add_all(depts.values())
    session.flush()
    w = World(ent=ent, other=other, depts=depts)
    for i, (key, dept, name) in enumerate((("alice", "生产部", "王小丽"),
                                           ("bob", "销售部", "李大伟"),
                                           ("carol", "销售部", "赵敏"),
                                           ("dave", "仓储部", "孙强"))):
        p = make_persona("public", name=name)
        emp = Employee(enterprise_id=depts[dept].enterprise_id, department_id=depts[dept].id,
                       person_id=p.user.person_id, user_id=p.user.id,
                       employee_no=f"E{i:04d}")
        session.add(emp)
        # What HR listed for them: the name its pages and exports show.
        claims.record(session=session, vault=rt.vault, person_id=p.user.person_id,
                      source_kind="enterprise", source_id=emp.enterprise_id, name=name,
                      phone="13800000000")
        session.flush()
        w.staff[key] = Staff(p, emp)
    session.commit()
    w.admin = make_persona("enterprise_admin", "enterprise", CODE)
    w.head = make_persona("department_head", "department", str(depts["销售部"].id))
    w.outsider = make_persona("enterprise_admin", "enterprise", OTHER_CODE)
    return w


def file(client, persona, day: date, **overrides: Any):  # type: ignore[no-untyped-def]
    """File a report through the API."""
    body: dict[str, Any] = {"report_date": day.isoformat(), "temperature": 36.5,
                            "stops": commute(day)}
    body.update(overrides)
    return client.post("/api/v1/reports", json=body,
                       headers={**persona.headers, "Accept-Language": "en"})


def new_id() -> str:
    from passtrace.core.ids import uuid7

    return str(uuid7())


__all__ = ["CODE", "OTHER_CODE", "World", "commute", "file", "local", "new_id", "uuid",
           "timedelta"]
