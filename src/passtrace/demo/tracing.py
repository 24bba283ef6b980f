"""Demo tracing: cases whose persons came through the demo's sites, traced by the services.

The inputs are bulk-inserted like the rest of the demo (a few days of the case persons'
registrations at the Nanming venue and checkpoints); everything a user then reads —
cases, contacts and their evidence, tracing tasks, the chain, verification findings —
is made by the real services (`cases.service`, `tracing.service`, `tracing.tasks`,
`tracing.verify`), with the clock set back to when an official would have done it, so
some tasks are overdue today.

- A confirmed case: an engineer of the first demo enterprise. Four days ago they passed
  the Huaguoyuan checkpoint at noon (a neighbour passed five minutes later), went to the
  Nanming hospital for an hour and a half (two people inside with them, one of them the
  demo resident 张三) and did not report it; three days ago their report said "office"
  while the Beijing Road checkpoint in Yunyan saw them (another passer-by too). 张三 went
  back to the hospital the next day with a colleague: a secondary contact, a chain.
  Searched two days ago: 张三's and one other task are overdue, two were reached.
- A suspected case: a resident of 花果园第一社区, with their household and the neighbours
  who passed the north gate with them; searched today, tasks due tomorrow.
- A closed asymptomatic case in Yunyan.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.cases import service as case_service
from passtrace.cases.schemas import CaseCreate, CaseTransition
from passtrace.communities.compounds.models import Community, Resident
from passtrace.core import clock
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.people.models import Person
from passtrace.registrations import stays
from passtrace.registrations.models import Registration
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site
from passtrace.tracing import service as tracing_service
from passtrace.tracing import tasks as task_service
from passtrace.tracing import verify

FIRST_ENTERPRISE = "贵阳黔筑建设工程有限公司"
HOSPITAL, NANMING_CP, YUNYAN_CP, NORTH_GATE = ("VEN-NM-HOSP", "CP-NM-01", "CP-YY-01",
                                               "GATE-HGY1-N")


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), LOCAL_TZ)


def _reg(site: Site, person: Person, at: datetime, direction: str) -> dict[str, Any]:
    """A registration as the checkpoint path stores an allowed scan of a typed ID number."""
    return {"id": uuid7(), "site_id": site.id, "lane": site.lanes[0], "device_key": "demo-phone",
            "operator_user_id": None, "occurred_at": at, "received_at": at, "clock_skew_s": 0,
            "skew_flagged": False, "direction": direction, "method": "id_typed",
            "person_hash": person.id_hash, "person_masked": person.name_masked,
            "id_last4": person.id_masked[-4:], "pass_id": None, "temperature": 36.5,
            "plate": None, "companions": 0, "origin": "", "destination": "",
            "decision": "allow", "reasons": [], "decided_by": "server",
            "override_reason": None, "override_by": None}


def _office_days(session: Session, e: Enterprise, person_ids: list[uuid.UUID],
                 days: tuple[date, date]) -> uuid.UUID | None:
    """The first of these persons whose reports on both days name the office."""
    rows = session.execute(
        select(Employee.person_id, DailyReport.report_date)
        .join(DailyReport, DailyReport.employee_id == Employee.id)
        .join(ReportStop, ReportStop.report_id == DailyReport.id)
        .where(Employee.person_id.in_(person_ids), DailyReport.report_date.in_(days),
               ReportStop.area_code == e.area_code).distinct()).all()
    seen: dict[uuid.UUID, set[date]] = {}
    for pid, day in rows:
        seen.setdefault(pid, set()).add(day)
    return next((p for p in person_ids if seen.get(p) == set(days)), None)


def _staff(session: Session, e: Enterprise) -> list[tuple[Person, str]]:
    """The enterprise's active staff and their departments, in a stable order."""
    return [(p, d) for p, d in session.execute(
        select(Person, Department.name).join(Employee, Employee.person_id == Person.id)
        .join(Department, Department.id == Employee.department_id)
        .where(Employee.enterprise_id == e.id, Employee.status == "active")
        .order_by(Employee.employee_no, Person.id_hash))]


def _household_case_person(session: Session, community_code: str) -> Person | None:
    """A resident of the compound who lives with others and passed its gate lately."""
    community = session.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        return None
    sizes = (select(Resident.household_id, func.count().label("n"))
             .where(Resident.community_id == community.id)
             .group_by(Resident.household_id).subquery())
    return session.scalars(
        select(Person).join(Resident, Resident.person_id == Person.id)
        .join(sizes, sizes.c.household_id == Resident.household_id)
        .where(sizes.c.n >= 3, Resident.community_id == community.id,
               select(Registration.id).where(Registration.person_hash == Person.id_hash)
               .exists())
        .order_by(Person.id_hash).limit(1)).first()


def seed(*, session: Session, rt: Runtime, official: Principal,
         city_official: Principal) -> dict[str, int]:
    """Open the demo cases and trace them; return how many contacts and findings."""
    e = session.scalar(select(Enterprise).where(Enterprise.name == FIRST_ENTERPRISE))
    sites = {s.code: s for s in session.scalars(select(Site))}
    resident = session.scalar(select(User).where(User.username == "resident"))
    if e is None or resident is None or resident.person_id is None:
        return {"contacts": 0, "findings": 0}
    today = clock.local_today()
    d1, d2 = today - timedelta(days=4), today - timedelta(days=3)
    staff = _staff(session, e)
    zhang = session.get(Person, resident.person_id)
    assert zhang is not None
    others = [p for p, dept in staff if p.id != zhang.id]
    engineers = [p.id for p, dept in staff if dept == "工程部" and p.id != zhang.id]
    index_id = _office_days(session, e, engineers, (d1, d2))
    if index_id is None or len(others) < 6:
        return {"contacts": 0, "findings": 0}
    index = session.get(Person, index_id)
    assert index is not None
    inside, near, yunyan, companion = [p for p in others if p.id != index_id][:4]
    hosp, nm, yy = sites[HOSPITAL], sites[NANMING_CP], sites[YUNYAN_CP]
    regs = [
        _reg(nm, index, _at(d1, 12, 0), "through"),     # corroborates the office stop
        _reg(nm, near, _at(d1, 12, 5), "through"),      # a contact: same checkpoint
        _reg(hosp, index, _at(d1, 13, 0), "in"),        # the unreported hospital visit
        _reg(hosp, index, _at(d1, 14, 30), "out"),
        _reg(hosp, inside, _at(d1, 12, 30), "in"),      # inside with them
        _reg(hosp, inside, _at(d1, 13, 10), "out"),
        _reg(hosp, zhang, _at(d1, 13, 20), "in"),
        _reg(hosp, zhang, _at(d1, 13, 50), "out"),
        _reg(yy, index, _at(d2, 15, 0), "through"),     # contradicts "office"
        _reg(yy, yunyan, _at(d2, 15, 10), "through"),
        _reg(hosp, zhang, _at(d2, 10, 0), "in"),        # 张三 back, with a colleague
        _reg(hosp, zhang, _at(d2, 11, 0), "out"),
        _reg(hosp, companion, _at(d2, 10, 30), "in"),
        _reg(hosp, companion, _at(d2, 11, 30), "out"),
    ]
    session.execute(insert(Registration), regs)
    stays.rebuild(session, person_hashes={r["person_hash"] for r in regs})

    try:
        # Two days ago at nine the hospital reported the case; the official opened and
        # searched it, then reached two contacts that day.
        searched = _at(today - timedelta(days=2), 9, 20)
        clock.freeze(searched)
        confirmed = case_service.create(session=session, rt=rt, actor=official, data=CaseCreate(
            person_id=index.id, classification="confirmed", onset_date=d1,
            isolation_date=today - timedelta(days=2), area_code=e.area_code,
            source="南明区人民医院发热门诊报告", notes="工程部员工，发病前曾到医院就诊。"))
        found = tracing_service.run(session=session, settings=rt.settings, actor=official,
                                    case=confirmed, depth=2, colleagues=True)
        tasks = task_service.by_contact(session=session, contact_ids=[c.id for c in found])
        by_person = {c.person_hash: tasks.get(c.id) for c in found}
        for person, status, hour, note in ((inside, "quarantined", 11, "已电话联系，已集中隔离。"),
                                           (near, "reached", 15, "已电话联系，居家观察。")):
            task = by_person.get(person.id_hash)
            if task is not None:
                clock.freeze(_at(today - timedelta(days=2), hour))
                task_service.set_status(session=session, principal=official, task_id=task.id,
                                        status=status, note=note)
    finally:
        clock.freeze(None)

    suspected_contacts = 0
    neighbour = _household_case_person(session, sites[NORTH_GATE].community_code or "")
    if neighbour is not None:
        suspected = case_service.create(session=session, rt=rt, actor=official, data=CaseCreate(
            person_id=neighbour.id, classification="suspected",
            onset_date=today - timedelta(days=1), area_code=sites[NORTH_GATE].area_code,
            source="社区核酸筛查", notes="单管阳性，待复核。"))
        suspected_contacts = len(tracing_service.run(
            session=session, settings=rt.settings, actor=official, case=suspected,
            window_minutes=5))

    # A case in Yunyan, isolated and released last week.
    released = session.scalar(select(Person).join(Employee, Employee.person_id == Person.id)
                              .join(Enterprise, Enterprise.id == Employee.enterprise_id)
                              .where(Enterprise.area_code == yy.area_code)
                              .order_by(Person.id_hash).limit(1))
    if released is not None:
        old = case_service.create(session=session, rt=rt, actor=city_official,
                                  data=CaseCreate(
                                      person_id=released.id, classification="asymptomatic",
                                      sampling_date=today - timedelta(days=9),
                                      isolation_date=today - timedelta(days=8),
                                      area_code=yy.area_code, source="入境人员核酸检测"))
        case_service.close(session=session, actor=city_official, case_id=old.id,
                           data=CaseTransition(note="两次核酸检测阴性，解除隔离。"))

    stats = verify.verify(session=session, first=d1, last=d2, enterprise_id=e.id)
    return {"contacts": len(found) + suspected_contacts, "findings": stats.findings}
