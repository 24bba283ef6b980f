"""Hand-built tracing fixtures: sites, registrations, stays, a case; answers known by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.runtime import Runtime
from passtrace.people import service as people_service
from passtrace.people.models import Person
from passtrace.registrations.models import Registration, Stay
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
        decision: str = "allow", external_id: str | None = None) -> Registration:
    r = Registration(id=uuid.uuid4(), site_id=s.id, lane="1", device_key="d", occurred_at=at,
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
