"""A case's share of tasks reached within 24 hours: exactly 24 hours counts, a second
more does not, an unreached task counts only in the total (both databases; PostgreSQL
counts in SQL, SQLite in Python)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import contacts, tasks
from passtrace.tracing.models import Contact, TracingTask
from tests.tracing.world import T0, case, person, reg, site

M = timedelta(minutes=1)


def test_reached_within_24_hours_counts_the_boundary(rt: Runtime, session: Session) -> None:
    s = site(session, "road_checkpoint")
    p = person(session, rt)
    c = case(session, p)
    reg(session, s, p.id_hash, T0)
    for i in range(4):
        reg(session, s, f"near-{i}", T0 + (i + 1) * M)
    found = contacts.search_and_store(session=session, case=c, options=contacts.Options())
    assert tasks.ensure(session=session, contacts=found, case_area=c.area_code) == 4
    made = list(session.scalars(select(TracingTask).join(Contact).where(
        Contact.case_id == c.id).order_by(Contact.person_hash)))
    for task, after in zip(made, (timedelta(hours=24), timedelta(hours=24, seconds=1),
                                  timedelta(minutes=5)), strict=False):
        task.status, task.reached_at = "reached", task.created_at + after
    session.flush()
    assert tasks.reached_share(session=session, case_id=c.id) == (2, 4)
