"""A hand-built district with known answers: Nanming (520102) and, beside it, Yunyan
(520103), seen at NOW = 3 December 10:30 local time (02:30 UTC).

Nanming, today (local 3 December):
- gate 南明一号门 (community gate): 3 registrations at 09:xx local, allowed, 36.5;
- checkpoint 南明检查站 (road checkpoint): 1 at 08:15, denied "revoked", 38.0 (a fever);
  1 at 20:00 yesterday (in the 24 hours, not today); 1 two days ago (outside);
  1 at 11:00 today, after NOW (not yet: excluded);
- alerts: checkpoint_fever open 2 h old, pass_invalid acknowledged 4 days old, one
  resolved (not open);
- cases: 1 confirmed and 1 suspected open, 1 closed; tracing: 2 tasks made 30 h ago,
  one reached 3 h after, one not reached (overdue), and one made 2 h ago (not yet due);
- risk areas: 520102001 high (in force), 520102002 low (lifted);
- status: a red flag raised by the fever alert; a manual yellow flag (approved for
  520102); an old flag with no area (city-wide only);
- reports: an enterprise with 4 active staff (and 1 who left), 3 reports today, 1 flagged.
Yunyan: 2 registrations at a venue at 09:xx (one 37.5 against a 37.3 threshold), an open
alert, an open case, a medium risk area.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from passtrace.areas.models import AreaRisk
from passtrace.cases.models import Case
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.health.models import StatusFlag
from passtrace.people import service as people_service
from passtrace.registrations.imports import import_id
from passtrace.registrations.models import Registration
from passtrace.reports.models import DailyReport, ReportDayCount
from passtrace.sites.models import Site
from passtrace.tracing.models import Contact, TracingTask
from passtrace.warnings.models import Alert
from tests.conftest import next_id_number

NOW = datetime(2026, 12, 3, 2, 30, tzinfo=UTC)  # 10:30 in Asia/Shanghai
TODAY = date(2026, 12, 3)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A local (UTC+8) time on a December 2026 day, as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@dataclass
class World:
    gate: Site
    checkpoint: Site
    venue: Site
    fever_alert: int


def _site(session: Any, code: str, name: str, kind: str, area: str) -> Site:
    site = Site(code=code, name=name, kind=kind, area_code=area, lanes=["1"],
                opening_hours=[], fever_threshold=37.3, community_code="")
    session.add(site)
    session.flush()
    return site


_n = iter(range(10**6))


def registration(session: Any, site: Site, at: datetime, *, decision: str = "allow",
                 reasons: list[str] | None = None, temperature: float = 36.5) -> Registration:
    """A stored registration whose UUIDv7 id carries its time, as a device makes it."""
    row = Registration(
        id=import_id(f"dash-{next(_n)}-{uuid.uuid4().hex}", at), site_id=site.id, lane="1",
        device_key="d", occurred_at=at, received_at=at, clock_skew_s=0, skew_flagged=False,
        future_flagged=False, direction="through", method="qr", person_hash="p" * 64,
        person_masked="", id_last4="", temperature=temperature, companions=0, origin="",
        destination="", decision=decision, reasons=reasons or [], decided_by="server")
    session.add(row)
    return row


def _person(session: Any, rt: Any) -> Any:
    return people_service.register(session=session, vault=rt.vault, actor=None,
                                   id_number=next_id_number(), name="测试", phone="13800000000")


def _alert(session: Any, rule: str, area: str, created: datetime, status: str = "open") -> int:
    alert = Alert(rule_code=rule, severity="high", subject_kind="person",
                  subject_key=uuid.uuid4().hex, person_hash="h" * 64, subject_masked="张*",
                  area_code=area, queue_area=area, day=TODAY, evidence={}, status=status,
                  created_at=created)
    session.add(alert)
    session.flush()
    return alert.id


def _case(session: Any, person: Any, area: str, classification: str,
          status: str = "open") -> Case:
    case = Case(person_id=person.id, person_hash=person.id_hash, classification=classification,
                status=status, window_start=NOW - timedelta(days=4), window_end=NOW,
                area_code=area, created_at=NOW - timedelta(days=2))
    session.add(case)
    session.flush()
    return case


def _task(session: Any, case: Case, made: datetime, reached: datetime | None) -> None:
    contact = Contact(case_id=case.id, person_hash=uuid.uuid4().hex, kind="close",
                      first_exposure=made, last_exposure=made, quarantine_until=TODAY,
                      area_code=case.area_code, evidence=[], found_at=made)
    session.add(contact)
    session.flush()
    session.add(TracingTask(contact_id=contact.id, area_code=case.area_code,
                            status="reached" if reached else "not_reached",
                            due_at=made + timedelta(hours=24), reached_at=reached,
                            created_at=made))


def _flag(session: Any, person: Any, level: str, key: str, area: str | None) -> None:
    session.add(StatusFlag(person_id=person.id, level=level, source="test", reason="test",
                           evidence={}, starts_at=NOW - timedelta(hours=1), until=None,
                           dedupe_key=key, area_code=area))


def _reports(session: Any, rt: Any) -> None:
    ent = Enterprise(credit_code="91520102MA6DASH01X", name="南明制造", area_code="520102")
    session.add(ent)
    session.flush()
    dept = Department(enterprise_id=ent.id, name="生产部")
    session.add(dept)
    session.flush()
    staff = []
    for i in range(5):
        person = _person(session, rt)
        staff.append(person)
        session.add(Employee(enterprise_id=ent.id, department_id=dept.id, person_id=person.id,
                             status="left" if i == 4 else "active"))
    session.add(ReportDayCount(enterprise_id=ent.id, report_date=TODAY, department_id=dept.id,
                               submitted=3))
    session.add(DailyReport(enterprise_id=ent.id, department_id=dept.id,
                            report_date=TODAY, temperature=38.1, symptoms=["fever"],
                            submitted_at=NOW - timedelta(hours=2), flagged=True,
                            person_hash=staff[0].id_hash))


@pytest.fixture
def world(session: Any, rt: Any) -> World:
    gate = _site(session, "NM-G1", "南明一号门", "community_gate", "520102001")
    checkpoint = _site(session, "NM-C1", "南明检查站", "road_checkpoint", "520102")
    venue = _site(session, "YY-V1", "云岩体育馆", "venue", "520103")
    for minute in (5, 20, 40):
        registration(session, gate, local(3, 9, minute))
    registration(session, checkpoint, local(3, 8, 15), decision="deny", reasons=["revoked"],
                 temperature=38.0)
    registration(session, checkpoint, local(2, 20))
    registration(session, checkpoint, local(1, 20))
    registration(session, checkpoint, local(3, 11))
    registration(session, venue, local(3, 9, 10))
    registration(session, venue, local(3, 9, 50), temperature=37.5)

    fever = _alert(session, "checkpoint_fever", "520102001", NOW - timedelta(hours=2))
    _alert(session, "pass_invalid", "520102", NOW - timedelta(days=4), status="acknowledged")
    _alert(session, "pass_invalid", "520102", NOW - timedelta(hours=3), status="resolved")
    _alert(session, "checkpoint_fever", "520103", NOW - timedelta(minutes=10))

    people = [_person(session, rt) for _ in range(5)]
    confirmed = _case(session, people[0], "520102001", "confirmed")
    _case(session, people[1], "520102", "suspected")
    _case(session, people[2], "520102", "confirmed", status="closed")
    _case(session, people[3], "520103", "confirmed")
    _task(session, confirmed, NOW - timedelta(hours=30), NOW - timedelta(hours=27))
    _task(session, confirmed, NOW - timedelta(hours=30), None)
    _task(session, confirmed, NOW - timedelta(hours=2), None)

    session.add(AreaRisk(area_code="520102001", area_prefix="520102001", level="high",
                         valid_from=NOW - timedelta(days=1)))
    session.add(AreaRisk(area_code="520102002", area_prefix="520102002", level="low",
                         valid_from=NOW - timedelta(days=5), valid_until=NOW - timedelta(days=1)))
    session.add(AreaRisk(area_code="520103", area_prefix="520103",
                         level="medium", valid_from=NOW - timedelta(days=1)))
    _flag(session, people[0], "red", f"alert:{fever}", "520102001")
    _flag(session, people[4], "yellow", "manual:test", "520102")
    _flag(session, people[3], "yellow", "manual:old", None)
    _reports(session, rt)
    session.commit()
    return World(gate, checkpoint, venue, fever)


@pytest.fixture
def site(session: Any) -> Site:
    """A road checkpoint of Nanming of its own (fever at 37.3), committed: for the
    hour-count tests, whose rows must not mix with the district's."""
    s = Site(code=f"RH-{uuid.uuid4().hex[:6]}", name="南明卡口", kind="road_checkpoint",
             area_code="520102003", lanes=["1"], opening_hours=[], fever_threshold=37.3,
             community_code="")
    session.add(s)
    session.commit()
    return s
