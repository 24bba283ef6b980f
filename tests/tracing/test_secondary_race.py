"""Two officials asking for a case's secondary contacts at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.core.runtime import Runtime
from passtrace.tracing import contacts
from passtrace.tracing.models import Contact
from tests.concurrency import is_postgres, race, tag
from tests.tracing.world import T0, case, person, reg, site


def _committed_case(rt: Runtime) -> tuple[uuid.UUID, str, str]:
    """A case, its contact `near` and near's contact `second`, an hour later elsewhere."""
    near, second = f"near-{tag()}", f"second-{tag()}"
    with rt.sessions() as session:
        s1, s2 = site(session), site(session)
        p = person(session, rt)
        c = case(session, p)
        reg(session, s1, p.id_hash, T0)
        reg(session, s1, near, T0 + timedelta(minutes=5))
        reg(session, s2, near, T0 + timedelta(hours=1))
        reg(session, s2, second, T0 + timedelta(hours=1, minutes=5))
        session.commit()
        return c.id, near, second


def test_two_depth_two_searches_at_once_name_the_contact_that_is_stored(
        committed_rt: Runtime) -> None:
    # Without the case's lock the second search would upsert `near` onto the first one's
    # row and then name its own, never stored, id as `second`'s contact (PostgreSQL: a
    # foreign-key error; the level statement stores `second` through it).
    case_id, near, second = _committed_case(committed_rt)

    def search(session: Session) -> None:
        contacts.run(session=session, case=session.get(Case, case_id),
                     options=contacts.Options(), depth=2)

    outcomes = race(committed_rt, search, search,
                    before=lambda s: s.scalar(select(func.count()).select_from(Contact)))
    with committed_rt.sessions() as session:
        rows = {c.person_hash: c for c in session.scalars(
            select(Contact).where(Contact.case_id == case_id))}
    assert set(rows) == {near, second}
    assert rows[second].depth == 2 and rows[second].via_contact_id == rows[near].id
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]
    else:
        assert "ok" in outcomes and set(outcomes) <= {"ok", "busy"}
