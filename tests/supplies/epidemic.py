"""Arranging the forecast's drivers by hand: a duty roster at checkpoints, a case with
contacts in quarantine (some tested), cases in isolation, in one area."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.cases.models import Case
from passtrace.core.runtime import Runtime
from passtrace.sites.models import Site
from passtrace.supplies import forecast
from passtrace.supplies.models import ForecastRate, SupplyItem
from passtrace.tracing.models import Contact, TracingTask
from tests.conftest import PASSWORD
from tests.tracing import world

NOW = datetime.now(UTC)


def checkpoint(session: Session, area: str, kind: str = "road_checkpoint",
               active: bool = True) -> Site:
    s = Site(code=f"FC-{uuid.uuid4().hex[:8]}", name="预测卡口", kind=kind, area_code=area,
             active=active)
    session.add(s)
    session.flush()
    return s


def on_duty(session: Session, rt: Runtime, site: Site, n: int, active: bool = True) -> None:
    """n users on the site's duty roster (checkpoint_staff bound to it)."""
    for _ in range(n):
        user = account_service.create(session=session, rt=rt, actor=None,
                                      username=f"duty{uuid.uuid4().hex[:10]}",
                                      password=PASSWORD, display_name="执勤")
        user.is_active = active
        account_service.grant(session=session, actor=None, user=user,
                              role="checkpoint_staff", scope_type="site", scope_value=site.code)
    session.flush()


def case(session: Session, rt: Runtime, area: str, *, isolated_on: date | None,
         status: str = "open") -> Case:
    c = world.case(session, world.person(session, rt), area=area)
    c.isolation_date, c.status = isolated_on, status
    session.flush()
    return c


def contacts(session: Session, c: Case, area: str, n: int, *, until: date,
             tested: int = 0, kind: str = "close") -> None:
    """n contacts of the case in quarantine until `until`; the first `tested` tested."""
    rows = [Contact(id=uuid.uuid4(), case_id=c.id, person_hash=uuid.uuid4().hex,
                    kind=kind, depth=1, first_exposure=NOW - timedelta(days=1),
                    last_exposure=NOW - timedelta(days=1), quarantine_until=until,
                    area_code=area, evidence=[{"kind": "household"}], found_at=NOW)
            for _ in range(n)]
    session.add_all(rows)
    session.flush()
    session.add_all([TracingTask(contact_id=r.id, area_code=area, due_at=NOW,
                                 status="tested" if i < tested else "reached")
                     for i, r in enumerate(rows)])
    session.flush()


def rate(session: Session, item: SupplyItem, driver: str, value: float,
         shifts: int = 1) -> ForecastRate:
    return forecast.set_rate(session=session, actor=None, item=item, driver=driver,
                             rate=value, periods_per_day=shifts)
