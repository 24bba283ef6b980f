"""Hand-built reports, sites and registrations whose verification answers are known."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from passtrace.core.clock import LOCAL_TZ
from passtrace.core.ids import uuid7
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people.models import Person
from passtrace.registrations.models import Registration, Stay
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site

DAY = date(2026, 11, 20)
HOME, OFFICE, ELSEWHERE = "520102006", "520103003", "520111001"


def at(hhmm: str, day: date = DAY) -> datetime:
    """A local (China) time on a day."""
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(day, time(h, m), LOCAL_TZ)


@dataclass
class VWorld:
    session: Session
    ent: Enterprise
    dept: Department
    sites: dict[str, Site] = field(default_factory=dict)
    n: int = 0

    def person(self) -> tuple[Person, Employee]:
        self.n += 1
        p = Person(id_hash=uuid.uuid4().hex, id_enc=b"x", id_masked="52**************1X",
                   name_enc=b"x", name_masked="张*")
        self.session.add(p)
        self.session.flush()
        e = Employee(enterprise_id=self.ent.id, department_id=self.dept.id, person_id=p.id,
                     employee_no=f"V{self.n:04d}")
        self.session.add(e)
        self.session.flush()
        return p, e

    def report(self, emp: Employee, person: Person,
               stops: list[tuple[str, datetime, datetime | None]], day: date = DAY,
               external_id: str | None = None) -> DailyReport:
        r = DailyReport(id=uuid7(), employee_id=emp.id, enterprise_id=emp.enterprise_id,
                        department_id=emp.department_id, report_date=day, temperature=36.5,
                        submitted_at=at("20:00", day), person_hash=person.id_hash,
                        external_id=external_id)
        for seq, (area, arrive, depart) in enumerate(stops, start=1):
            r.stops.append(ReportStop(seq=seq, area_code=area, arrive_at=arrive,
                                      depart_at=depart))
        self.session.add(r)
        self.session.flush()
        return r

    def seen(self, person: Person | None, area: str, when: datetime,
             external_id: str | None = None) -> Registration:
        r = Registration(id=uuid7(), site_id=self.sites[area].id, lane="1", device_key="dev",
                         occurred_at=when, received_at=when, direction="in", method="manual",
                         decision="allow", person_hash=person.id_hash if person else None,
                         person_masked="张*", id_last4="1234", external_id=external_id)
        self.session.add(r)
        self.session.flush()
        return r

    def stay(self, person: Person, area: str, start: datetime, end: datetime) -> Stay:
        s = Stay(id=uuid7(), person_hash=person.id_hash, site_id=self.sites[area].id,
                 started_at=start, ended_at=end, closed_by="out")
        self.session.add(s)
        self.session.flush()
        return s


def build(session: Session, credit_code: str = "91520102MA6J5GQX4T",
          area: str = "520102006", tolerance: int = 30) -> VWorld:
    ent = Enterprise(credit_code=credit_code, name="贵州黔味食品有限公司", area_code=area,
                     verify_tolerance_minutes=tolerance)
    session.add(ent)
    session.flush()
    dept = Department(enterprise_id=ent.id, name="生产部")
    session.add(dept)
    session.flush()
    w = VWorld(session, ent, dept)
    for code in (HOME, OFFICE, ELSEWHERE):
        s = Site(code=f"V-{code}-{uuid.uuid4().hex[:6]}", name="核查测试点", kind="gate",
                 area_code=code + "001")
        session.add(s)
        w.sites[code] = s
    session.flush()
    return w


def filed_by(w: VWorld, user_id: uuid.UUID) -> tuple[Person, Employee, DailyReport]:
    """An employee with an account (`user_id`) and the day's report they filed: home
    07:00-08:00, where a site saw them at 07:30, then the office 09:00-10:00, unseen."""
    p, e = w.person()
    e.user_id = user_id
    r = w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), at("10:00"))])
    w.seen(p, HOME, at("07:30"))
    return p, e, r


def one_day(hours: float = 1) -> timedelta:
    return timedelta(hours=hours)
