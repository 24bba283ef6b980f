"""Two flags raised for one person at once (committed data, both databases)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from passtrace.health import bulk
from passtrace.health import service as health
from passtrace.people.models import Person
from tests.concurrency import is_postgres, race
from tests.health.conftest import new_person


def test_two_flags_at_once_leave_the_right_stored_status(committed_rt) -> None:
    rt = committed_rt
    for _ in range(6):  # each round: a yellow and a red for a fresh person
        with rt.sessions() as s:
            person_id = new_person(s, rt).id
            s.commit()

        def raise_(level: str, person_id: uuid.UUID = person_id):  # type: ignore[no-untyped-def]
            return lambda session: health.raise_flag(
                session=session, person_id=person_id, level=level, source="manual",
                reason="close_contact", evidence={}, until=None,
                dedupe_key=f"race:{uuid.uuid4().hex}")

        outcomes = race(rt, raise_("yellow"), raise_("red"),
                        before=lambda s, p=person_id: s.get(Person, p))
        allowed = {"ok"} if is_postgres(rt) else {"ok", "busy"}
        assert set(outcomes) <= allowed and "ok" in outcomes, outcomes
        with rt.sessions() as s:
            stored = s.scalar(select(Person.status).where(Person.id == person_id))
            derived = health.current(session=s, person_id=person_id).status
            assert stored == derived, (outcomes, stored, derived)
            if outcomes == ["ok", "ok"]:
                assert stored == "red"


def test_two_approvals_at_once_change_the_status_once(committed_rt, committed_client) -> None:
    from passtrace.health import manual
    from passtrace.health.models import StatusChange, StatusProposal
    from tests.concurrency import committed_persona

    rt = committed_rt
    proposer = committed_persona(rt, committed_client, "official", "global").principal
    a = committed_persona(rt, committed_client, "official", "global").principal
    b = committed_persona(rt, committed_client, "official", "global").principal
    with rt.sessions() as s:
        person_id = new_person(s, rt).id
        proposal = manual.propose(session=s, actor=proposer, person_id=person_id, level="red",
                                  reason="两人同时批准")
        s.commit()
        proposal_id = proposal.id

    def approve(actor):  # type: ignore[no-untyped-def]
        return lambda session: manual.decide(session=session, actor=actor,
                                             proposal_id=proposal_id, approve=True)

    outcomes = race(rt, approve(a), approve(b),
                    before=lambda s: s.get(StatusProposal, proposal_id))
    loser = {"Conflict"} if is_postgres(rt) else {"Conflict", "busy"}
    assert outcomes.count("ok") == 1 and (set(outcomes) - {"ok"}) <= loser, outcomes
    with rt.sessions() as s:
        changes = s.scalars(select(StatusChange).where(StatusChange.person_id == person_id)).all()
        assert [(c.before, c.after) for c in changes] == [("green", "red")]
        assert s.scalar(select(Person.status).where(Person.id == person_id)) == "red"


def test_a_batch_waits_for_another_batch_it_cannot_see_yet(committed_rt, monkeypatch) -> None:
    """The race health.bulk._lock names, made to happen: one batch has stored red for a
    person and not committed yet; a second batch raising a yellow for them must not
    derive from the flags it sees (its yellow alone) and then overwrite the red with
    yellow once the first commits (the flag's foreign key does not stop it: two
    inserts' key-share locks do not conflict). The second locks its people first, so it
    waits for the red's commit and sees it."""
    import threading

    from tests.health.test_bulk import _select

    rt = committed_rt
    with rt.sessions() as s:
        person_id = new_person(s, rt).id
        s.commit()
    raised, derived, second = threading.Event(), threading.Event(), threading.local()
    history = bulk._insert_history

    def history_then_tell(*args, **kwargs):  # type: ignore[no-untyped-def]
        history(*args, **kwargs)
        if getattr(second, "is_it", False):
            derived.set()

    monkeypatch.setattr(bulk, "_insert_history", history_then_tell)

    def rows(level: str):  # type: ignore[no-untyped-def]
        return _select([(person_id, level, "close_contact", None, f"race:{uuid.uuid4().hex}")])

    def first(session):  # type: ignore[no-untyped-def]
        bulk.raise_selected(session=session, rows=rows("red"))
        raised.set()
        # Commit once the second batch has derived, or after 3 s (it waits on our lock).
        derived.wait(timeout=3)

    def then(session):  # type: ignore[no-untyped-def]
        raised.wait(timeout=10)
        second.is_it = True
        return bulk.raise_selected(session=session, rows=rows("yellow"))

    outcomes = race(rt, first, then)
    allowed = {"ok"} if is_postgres(rt) else {"ok", "busy"}
    assert set(outcomes) <= allowed and outcomes[0] == "ok", outcomes
    with rt.sessions() as s:
        stored = s.scalar(select(Person.status).where(Person.id == person_id))
        assert stored == health.current(session=s, person_id=person_id).status == "red"
