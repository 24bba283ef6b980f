"""Issue 13: deleting a case with thousands of secondary contacts must not scan per row."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.runtime import Runtime
from passtrace.tracing.models import Contact
from tests.tracing.world import case, person

T = datetime(2026, 11, 10, 2, tzinfo=UTC)


def test_the_migrated_schema_indexes_the_via_contact_column(db_engine) -> None:  # type: ignore[no-untyped-def]
    indexes = inspect(db_engine).get_indexes("case_contacts")
    assert ["via_contact_id"] in [ix["column_names"] for ix in indexes], indexes


def _contact(case_id: uuid.UUID, n: int, depth: int, via: uuid.UUID | None) -> Contact:
    return Contact(id=uuid.uuid4(), case_id=case_id, person_hash=f"h{depth}-{n}",
                   kind="close" if depth == 1 else "secondary", depth=depth,
                   via_contact_id=via, first_exposure=T, last_exposure=T,
                   quarantine_until=date(2026, 11, 24), area_code="520102",
                   evidence=[{"kind": "household", "household": "hh"}], found_at=T)


def test_deleting_a_case_removes_its_chain_of_contacts(rt: Runtime, session: Session) -> None:
    c = case(session, person(session, rt))
    other = case(session, person(session, rt, name="其他"))
    first = [_contact(c.id, i, 1, None) for i in range(20)]
    session.add_all(first)
    session.flush()
    session.add_all([_contact(c.id, i, 2, first[i % 20].id) for i in range(200)])
    session.add(_contact(other.id, 0, 1, None))
    session.commit()
    session.execute(delete(Case).where(Case.id == c.id))
    session.commit()
    left = dict(session.execute(select(Contact.case_id, func.count())
                                .group_by(Contact.case_id)).all())
    assert left == {other.id: 1}
