"""Two officials at once: a task's notes, and running the contact search twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.runtime import Runtime
from passtrace.core.security import Binding, Principal
from passtrace.tracing import contacts, tasks
from passtrace.tracing.models import Contact, TracingTask
from tests.concurrency import is_postgres, race, tag
from tests.tracing.world import T0, case, person, reg, site

OFFICIAL = Principal(user_id=uuid.uuid4(), username="o", display_name="流调员",
                     person_id=None, bindings=(Binding("official", "area", "520102"),))


def _committed_case(rt: Runtime):  # type: ignore[no-untyped-def]
    with rt.sessions() as session:
        s = site(session, "road_checkpoint")
        p = person(session, rt)
        c = case(session, p)
        reg(session, s, p.id_hash, T0)
        reg(session, s, f"near-{tag()}", T0 + timedelta(minutes=5))
        session.commit()
        return c.id


def test_two_status_updates_at_once_keep_both_notes(committed_rt: Runtime) -> None:
    case_id = _committed_case(committed_rt)
    with committed_rt.sessions() as session:
        c = session.get(Case, case_id)
        found = contacts.run(session=session, case=c, options=contacts.Options())
        tasks.ensure(session=session, contacts=found, case_area="520102")
        task_id = session.scalar(select(TracingTask.id)
                                 .where(TracingTask.contact_id == found[0].id))
        session.commit()

    def update(note: str):  # type: ignore[no-untyped-def]
        def call(session: Session) -> None:
            tasks.set_status(session=session, principal=OFFICIAL, task_id=task_id,
                             status="reached", note=note)
        return call

    outcomes = race(committed_rt, update("first note"), update("second note"),
                    before=lambda s: s.get(TracingTask, task_id).notes)
    with committed_rt.sessions() as session:
        notes = session.get(TracingTask, task_id).notes
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]
        assert "first note" in notes and "second note" in notes
    else:
        assert sorted(outcomes) == ["busy", "ok"]
        assert ("first note" in notes) != ("second note" in notes)


def test_two_searches_at_once_store_each_contact_once(committed_rt: Runtime) -> None:
    case_id = _committed_case(committed_rt)

    def search(session: Session) -> None:
        contacts.run(session=session, case=session.get(Case, case_id),
                     options=contacts.Options())

    outcomes = race(committed_rt, search, search,
                    before=lambda s: s.scalar(select(func.count()).select_from(Contact)))
    with committed_rt.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Contact)
                                .where(Contact.case_id == case_id))
    assert stored == 1
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]
    else:
        assert "ok" in outcomes and set(outcomes) <= {"ok", "busy"}
