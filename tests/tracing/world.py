"""Hand-built tracing fixtures: sites, registrations, stays, a case; answers known by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.communities.compounds.models import Building, Community, Household, Resident
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people import service as people_service
from passtrace.people.models import Person
from passtrace.registrations.models import Registration, Stay
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site
from tests.conftest import next_id_number

# Local 2026-11-10 10:00 (Asia/Shanghai) = 02:00 UTC.
T0 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
AREA = "520102"


def site(session: Session, kind: str = "venue", area: str = AREA) -> Site:
    s = Site(code=f"TR-{uuid.uuid4().hex[:8]}", name="追踪测试", kind=kind, area_code=area)
    session.add(s)
    session.flush()
    return s


def person(session: Session, rt: Runtime, name: str = "测试") -> Person:
    return people_service.register(session=session, vault=rt.vault, actor=None,
                                   id_number=next_id_number(), name=name,
                                   phone="13800000000")


def reg(session: Session, s: Site, person_hash: str, at: datetime, direction: str = "through",
        decision: str = "allow", external_id: str | None = None,
        rid: uuid.UUID | None = None) -> Registration:
    r = Registration(id=rid or uuid.uuid4(), site_id=s.id, lane="1", device_key="d", occurred_at=at,
                     received_at=at, direction=direction, method="qr",
                     person_hash=person_hash, decision=decision, external_id=external_id)
    session.add(r)
    session.flush()
    return r


def stay(session: Session, s: Site, person_hash: str, start: datetime, end: datetime,
         closed_by: str = "out") -> Stay:
    """An in (and, closed by out, an out) registration with the stay they make."""
    r_in = reg(session, s, person_hash, start, "in")
    out_id = reg(session, s, person_hash, end, "out").id if closed_by == "out" else None
    st = Stay(id=r_in.id, person_hash=person_hash, site_id=s.id, started_at=start,
              ended_at=end, closed_by=closed_by, out_registration_id=out_id)
    session.add(st)
    session.flush()
    return st


def case(session: Session, p: Person, start: datetime = T0 - timedelta(days=2),
         end: datetime = T0 + timedelta(days=2), window_minutes: int = 30,
         area: str = AREA) -> Case:
    c = Case(id=uuid.uuid4(), person_id=p.id, person_hash=p.id_hash,
             classification="confirmed", window_start=start, window_end=end,
             window_minutes=window_minutes, area_code=area)
    session.add(c)
    session.flush()
    return c


def enterprise(session: Session, area: str = AREA) -> tuple[Enterprise, Department]:
    e = Enterprise(credit_code=uuid.uuid4().hex[:18].upper(), name="追踪企业", area_code=area)
    session.add(e)
    session.flush()
    d = Department(enterprise_id=e.id, name="生产部")
    session.add(d)
    session.flush()
    return e, d


def report(session: Session, dep: Department, p: Person, day: date,
           stops: list[dict[str, object]] = (), stayed_home: bool = False) -> DailyReport:  # type: ignore[assignment]
    emp = session.scalar(select(Employee).where(Employee.enterprise_id == dep.enterprise_id,
                                                Employee.person_id == p.id))
    if emp is None:
        emp = Employee(enterprise_id=dep.enterprise_id, department_id=dep.id, person_id=p.id)
        session.add(emp)
        session.flush()
    r = DailyReport(employee_id=emp.id, enterprise_id=dep.enterprise_id, department_id=dep.id,
                    report_date=day, temperature=36.5, submitted_at=T0, person_hash=p.id_hash,
                    stayed_home=stayed_home)
    r.stops = [ReportStop(seq=i, area_code=st.get("area", AREA), arrive_at=st.get("at", T0),
                          mode=st.get("mode"), ref=st.get("ref"), seat=st.get("seat"))
               for i, st in enumerate(stops)]
    session.add(r)
    session.flush()
    return r


def household(session: Session, people: list[Person], code: str | None = None) -> Household:
    com = Community(code=code or f"5201020{uuid.uuid4().int % 10**5:05d}", name="测试小区")
    session.add(com)
    session.flush()
    b = Building(community_id=com.id, name="1栋")
    session.add(b)
    session.flush()
    hh = Household(community_id=com.id, building_id=b.id, unit="1", room="101")
    session.add(hh)
    session.flush()
    for p in people:
        session.add(Resident(community_id=com.id, household_id=hh.id, person_id=p.id,
                             role="family"))
    session.flush()
    return hh


def met_in_order(session: Session, index: Person, first: Person, second: Person,
                 first_site: Site, second_site: Site) -> None:
    """The index person meets `first` at `first_site`, then `second` at `second_site` an
    hour later (each 5 minutes after the index): the level's order secondary contacts
    are kept through."""
    reg(session, first_site, index.id_hash, T0)
    reg(session, first_site, first.id_hash, T0 + timedelta(minutes=5))
    reg(session, second_site, index.id_hash, T0 + timedelta(hours=1))
    reg(session, second_site, second.id_hash, T0 + timedelta(hours=1, minutes=5))
