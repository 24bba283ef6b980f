"""A case's contact export at the size of a secondary search: one joined read, masked
lists read no encrypted column, and the statements do not grow with the contacts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.runtime import Runtime
from passtrace.people.models import Person
from passtrace.tracing import export
from passtrace.tracing.models import Contact, TracingTask
from tests.querycount import assert_constant_queries, statements
from tests.tracing.world import case, person

T = datetime(2026, 11, 10, 2, tzinfo=UTC)


def _grow(session: Session, rt: Runtime, c: Case, n: int, start: int = 0) -> list[Contact]:
    """n contacts: every other one a known person, every third one with a task."""
    out = []
    for i in range(start, start + n):
        p = person(session, rt, f"接触{i}") if i % 2 == 0 else None
        contact = Contact(id=uuid.uuid4(), case_id=c.id, person_hash=p.id_hash if p else f"x{i}",
                          person_id=p.id if p else None, kind="close", depth=1,
                          first_exposure=T + timedelta(minutes=i),
                          last_exposure=T + timedelta(minutes=i + 5),
                          quarantine_until=date(2026, 11, 24), area_code="520102",
                          evidence=[{"kind": "household", "household": "hh"}], found_at=T)
        session.add(contact)
        out.append(contact)
    session.flush()
    for i, contact in enumerate(out):
        if (start + i) % 3 == 0:
            session.add(TracingTask(contact_id=contact.id, area_code="520102",
                                    due_at=T + timedelta(days=1), status="reached"))
    session.flush()
    return out


def test_a_masked_export_lists_each_contact_with_its_masked_person_and_task(
        rt: Runtime, session: Session) -> None:
    c = case(session, person(session, rt), area="520102")
    contacts = _grow(session, rt, c, 9)
    with statements(rt.engine) as seen:
        header, rows = export.rows(session=session, rt=rt, actor=None, case=c, reveal=None)
    assert len(rows) == 9
    for i, (row, contact) in enumerate(zip(rows, contacts, strict=True)):
        expected = session.get(Person, contact.person_id) if contact.person_id else None
        assert row[0] == (expected.id_masked if expected else "")
        assert row[-1] == ("reached" if i % 3 == 0 else "")
    assert "*" in rows[0][0]
    # Masked: no encrypted column is read.
    assert not [s for s in seen if s.lstrip().upper().startswith("SELECT") and "_enc" in s]


def test_a_revealed_export_still_reads_the_id_numbers(rt: Runtime, session: Session) -> None:
    c = case(session, person(session, rt), area="520102")
    _grow(session, rt, c, 4)
    header, rows = export.rows(session=session, rt=rt, actor=None, case=c,
                               reveal=export.Reveal("contact_tracing", "流调需要联系密接人员"))
    assert header[-2:] == ["id_number", "phone"]
    known = [r for r in rows if r[0]]
    assert len(known) == 2 and all(len(r[-2]) == 18 for r in known)


def test_the_export_sends_the_same_statements_however_many_contacts(
        rt: Runtime, session: Session, make_persona) -> None:  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102")
    actor = official.principal
    c = case(session, person(session, rt), area="520102")
    _grow(session, rt, c, 3)
    added = iter(range(1000, 100_000, 1000))
    assert_constant_queries(
        rt.engine,
        lambda: export.rows(session=session, rt=rt, actor=actor, case=c, reveal=None),
        lambda: _grow(session, rt, c, 40, start=next(added)))
