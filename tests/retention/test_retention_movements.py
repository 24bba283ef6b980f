"""Stays, outings, visits and deliveries: the old row goes at the retention period, the
recent one stays (an open outing stays however old: the resident is still out), each
with a receipt (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.communities.compounds.models import Outing
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.visits.models import Visit
from passtrace.core.runtime import Runtime
from passtrace.registrations.models import Stay
from passtrace.retention import service
from tests.retention.helpers import days_ago
from tests.tracing import world


class _World:
    def __init__(self, session: Session, rt: Runtime) -> None:
        self.person = world.person(session, rt)
        self.household = world.household(session, [self.person])
        self.site = world.site(session, kind="community_gate")
        self.user = User(username=f"ret-{uuid.uuid4().hex[:8]}", password_hash="x",
                         display_name="留存")
        session.add(self.user)
        session.flush()


def _stay(w: _World, when: datetime) -> Any:
    return Stay(id=uuid.uuid4(), person_hash=w.person.id_hash, site_id=w.site.id,
                started_at=when, ended_at=when, closed_by="out")


def _outing(w: _World, when: datetime, back: bool = True) -> Any:
    hh = w.household
    return Outing(id=uuid.uuid4(), community_id=hh.community_id, household_id=hh.id,
                  person_id=w.person.id, out_at=when, back_at=when if back else None)


def _visit(w: _World, when: datetime) -> Any:
    hh = w.household
    return Visit(id=uuid.uuid4(), community_id=hh.community_id, household_id=hh.id,
                 invited_by_user_id=w.user.id, visitor_person_id=w.person.id,
                 purpose="探亲", visit_date=when.date())


def _delivery(w: _World, when: datetime) -> Any:
    hh = w.household
    return Delivery(id=uuid.uuid4(), community_id=hh.community_id, site_id=w.site.id,
                    household_id=hh.id, registered_by=w.user.id, company="顺丰",
                    created_at=when)


KINDS: dict[str, Callable[[_World, datetime], Any]] = {
    "stays": _stay, "outings": _outing, "visits": _visit, "deliveries": _delivery}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_old_row_goes_the_recent_one_stays(kind: str, rt: Runtime, session: Session):
    w = _World(session, rt)
    build = KINDS[kind]
    old, recent = build(w, days_ago(35)), build(w, days_ago(3))
    rows = [old, recent]
    if kind == "outings":
        rows.append(_outing(w, days_ago(60), back=False))
    session.add_all(rows)
    session.commit()
    model, ids = type(old), [r.id for r in rows]

    stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="job")
    session.expire_all()
    assert session.get(model, ids[0]) is None
    assert session.get(model, ids[1]) is not None
    if kind == "outings":
        assert session.get(model, ids[2]) is not None, "an open outing went"
    assert stats.deleted[kind] == 1
    assert any(r["kind"] == kind and r["rows"] == 1 for r in service.receipts(session=session))
