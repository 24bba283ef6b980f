"""Running a case's search again: nothing is rewritten when nothing changed, and what a new
registration changed is stored (its contact updated, a new contact added and tasked, the
others left as they were), on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import contacts
from passtrace.tracing import service as tracing_service
from passtrace.tracing.models import Contact, TracingTask
from tests.tracing.world import T0, case, person, reg, site

M = timedelta(minutes=1)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The person hashes of the rows each upsert sends to the database."""
    calls: list[list[str]] = []
    real = contacts._upsert

    def spy(session: Session, rows: list[dict[str, Any]]) -> Any:
        calls.append(sorted(r["person_hash"] for r in rows))
        return real(session, rows)

    monkeypatch.setattr(contacts, "_upsert", spy)
    return calls


def _versions(session: Session, case_id: Any) -> dict[str, str]:
    """PostgreSQL: each stored row's version (xmin changes when the row is rewritten)."""
    return {h: v for h, v in session.execute(text(
        "SELECT person_hash, xmin::text FROM case_contacts WHERE case_id = :c"),
        {"c": case_id})}


def _stored(session: Session, case_id: Any) -> dict[str, Contact]:
    session.expire_all()
    return {c.person_hash: c for c in session.scalars(
        select(Contact).where(Contact.case_id == case_id))}


def test_a_rerun_rewrites_nothing_then_stores_what_a_new_registration_changed(
        rt: Runtime, session: Session, sent: list[list[str]]) -> None:
    s = site(session, "road_checkpoint")
    p = person(session, rt)
    c = case(session, p)
    reg(session, s, p.id_hash, T0)
    reg(session, s, "met-once", T0 + 3 * M)
    reg(session, s, "unchanged", T0 + 5 * M)

    def run() -> list[contacts.Stored]:
        found = tracing_service.run(session=session, settings=rt.settings, actor=None, case=c)
        session.commit()
        return found

    run()
    assert sent == [["met-once", "unchanged"]]
    before = _stored(session, c.id)
    tasks_before = {t.contact_id: t.id for t in session.scalars(select(TracingTask))}
    pg = session.get_bind().dialect.name == "postgresql"
    versions = _versions(session, c.id) if pg else {}

    # Nothing changed: nothing is sent, no row is rewritten, no task added.
    sent.clear()
    again = run()
    assert sent == []
    assert {x.person_hash for x in again} == {"met-once", "unchanged"}
    if pg:
        assert _versions(session, c.id) == versions

    # A registration arrives later: "met-once" met the case a second time, and someone
    # new was there too.
    reg(session, s, "met-once", T0 + 20 * M)
    reg(session, s, "newcomer", T0 - 10 * M)
    session.commit()
    sent.clear()
    run()
    assert sent == [["met-once", "newcomer"]]
    after = _stored(session, c.id)
    assert set(after) == {"met-once", "unchanged", "newcomer"}
    assert len(after["met-once"].evidence) == 2
    assert after["met-once"].last_exposure == T0 + 20 * M
    assert after["met-once"].id == before["met-once"].id
    assert after["unchanged"].evidence == before["unchanged"].evidence
    if pg:
        now = _versions(session, c.id)
        assert now["unchanged"] == versions["unchanged"]
        assert now["met-once"] != versions["met-once"]
    # The newcomer got a task; the others kept theirs (one each, the same ones).
    tasks_after = {t.contact_id: t.id for t in session.scalars(select(TracingTask))}
    assert {k: v for k, v in tasks_after.items() if k in tasks_before} == tasks_before
    assert after["newcomer"].id in tasks_after
    assert session.scalar(select(func.count()).select_from(TracingTask)) == 3


def test_a_contact_that_turns_close_again_keeps_its_one_task(
        rt: Runtime, session: Session) -> None:
    """A stored contact made general by a colleagues-only finding and close again later is
    not new: its task is found by the conflict check, not inserted twice."""
    s = site(session)
    p = person(session, rt)
    c = case(session, p)
    reg(session, s, p.id_hash, T0)
    reg(session, s, "x", T0 + M)
    tracing_service.run(session=session, settings=rt.settings, actor=None, case=c)
    session.commit()
    row = session.scalars(select(Contact).where(Contact.case_id == c.id)).one()
    task = session.scalars(select(TracingTask).where(TracingTask.contact_id == row.id)).one()
    row.kind = "general"
    session.commit()
    found = tracing_service.run(session=session, settings=rt.settings, actor=None, case=c)
    session.commit()
    assert [(f.person_hash, f.newly_close, f.new) for f in found] == [("x", True, False)]
    tasks = session.scalars(select(TracingTask).where(TracingTask.contact_id == row.id)).all()
    assert [t.id for t in tasks] == [task.id]
    session.refresh(row)
    assert row.kind == "close"
