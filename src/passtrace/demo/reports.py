"""Demo data: 14 days of reports for the demo employees, bulk-inserted."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.areas.models import Area, AreaRisk
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.people.models import Person
from passtrace.reports import counts
from passtrace.reports.models import FEVER_AT, DailyReport, ReportStop

DAYS = 14
TRAINS = ("G1234", "D2856", "G2331", "K1186")
FLIGHTS = ("CA1832", "3U8888", "MU5101", "CZ3491")


def _at(day: Any, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), LOCAL_TZ)


def seed(session: Session, rt: Runtime) -> dict[str, int]:
    """Fill the last 14 days; a few people late or missing, a few with fever or trips."""
    rng = random.Random(20200214)
    now = utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    streets = list(session.scalars(select(Area.code).where(Area.code.startswith("5201"),
                                                           Area.level == "street")))
    if not streets:
        return {"reports": 0, "stops": 0}
    # The demo resident accepted their invite: they file their own report (today is left
    # for them to try).
    resident = session.scalars(select(User).where(User.username == "resident")).first()
    resident_employee = None
    if resident is not None and resident.person_id is not None:
        resident_employee = session.scalars(select(Employee).where(
            Employee.person_id == resident.person_id)).first()
        if resident_employee is not None and resident_employee.user_id is None:
            resident_employee.user_id = resident.id
    ents = {e.id: e for e in session.scalars(select(Enterprise))}
    # A filed report carries its filer's person hash (verification and tracing join on it).
    employees = list(session.execute(select(Employee.id, Employee.enterprise_id,
                                            Employee.department_id, Person.id_hash)
                                     .join(Person, Person.id == Employee.person_id)
                                     .where(Employee.status == "active")))
    reports: list[dict[str, Any]] = []
    stops: list[dict[str, Any]] = []
    for emp_id, ent_id, dept_id, person_hash in employees:
        ent = ents[ent_id]
        home = rng.choice(streets)
        office = ent.area_code
        habit = rng.random()  # some people are habitually late
        for back in range(DAYS - 1, -1, -1):
            day = today - timedelta(days=back)
            if back == 0 and (emp_id == getattr(resident_employee, "id", None)
                              or rng.random() < 0.3):
                continue  # today: not everyone has filed yet
            if rng.random() < 0.03:
                continue  # missed the day
            late = habit < 0.05 and rng.random() < 0.6
            deadline = datetime.combine(day, ent.report_deadline, LOCAL_TZ)
            submitted = deadline + (timedelta(minutes=rng.randint(5, 180)) if late
                                    else -timedelta(minutes=rng.randint(10, 150)))
            if submitted > now:
                continue
            temp = round(rng.gauss(36.5, 0.2), 1)
            symptoms: list[str] = []
            if rng.random() < 0.01:
                temp, symptoms = round(rng.uniform(37.3, 38.6), 1), ["fever", "cough"]
            stayed_home = rng.random() < 0.1
            rid = uuid7()
            reports.append({"id": rid, "employee_id": emp_id, "enterprise_id": ent_id,
                            "department_id": dept_id, "person_hash": person_hash,
                            "filed_by": None, "report_date": day,
                            "temperature": min(max(temp, 35.5), 42.0), "symptoms": symptoms,
                            "stayed_home": stayed_home, "source": "form",
                            "submitted_at": submitted, "amended_at": None, "late": late,
                            "flagged": temp >= FEVER_AT or bool(symptoms)})
            if stayed_home:
                continue
            trip = rng.random()
            mode, ref, seat = "metro", None, None
            if trip < 0.02:
                mode, ref = "train", rng.choice(TRAINS)
                seat = f"{rng.randint(1, 16):02d}-{rng.randint(1, 20)}{rng.choice('ABCDF')}"
            elif trip < 0.03:
                mode, ref = "flight", rng.choice(FLIGHTS)
                seat = f"{rng.randint(1, 40)}{rng.choice('ABCDEF')}"
            elif trip < 0.3:
                mode = rng.choice(("bus", "walk", "taxi"))
            day_stops = (
                (home, "家", _at(day, 0, 0), _at(day, 7, 50), None, None, None),
                (office, ent.name, _at(day, 8, 40), _at(day, 17, 30), mode, ref, seat),
                (home, "家", _at(day, 18, 20), None, "bus", None, None))
            # A report names only where one has been by the time it is filed (the form
            # refuses stops still to come): a morning report ends at the office.
            been = [st for st in day_stops if st[2] <= submitted]
            for seq, (area, place, arrive, depart, m, r, s) in enumerate(been, start=1):
                if depart is not None and depart > submitted:
                    depart = None
                stops.append({"report_id": rid, "seq": seq, "area_code": area,
                              "place": place, "arrive_at": arrive, "depart_at": depart,
                              "mode": m, "ref": r, "seat": s})
    for i in range(0, len(reports), 5000):
        session.execute(insert(DailyReport), reports[i:i + 5000])
    for i in range(0, len(stops), 5000):
        session.execute(insert(ReportStop), stops[i:i + 5000])
    counts.rebuild(session=session)  # bulk-inserted: the dashboard counts start from these
    session.add(AreaRisk(area_code="520103003", area_prefix="520103003", level="medium",
                         valid_from=now - timedelta(days=2),
                         note="近日出现本地确诊病例，北京路街道列为中风险地区"))
    session.flush()
    return {"reports": len(reports), "stops": len(stops)}
