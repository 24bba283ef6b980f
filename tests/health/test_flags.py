"""raise_flag / clear_flag / current / the expiry sweep (both databases)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from passtrace.audit.models import AuditEntry
from passtrace.core import clock
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.health import service as health
from passtrace.health.models import StatusChange, StatusFlag
from passtrace.people.models import Person
from tests.health.conftest import flag, in_days


def _stored_status(session, person_id) -> str:  # type: ignore[no-untyped-def]
    return session.scalar(select(Person.status).where(Person.id == person_id))


def test_a_flag_turns_the_stored_status_and_current_explains_it(session, person) -> None:
    assert flag(session, person.id, "yellow", until=in_days(7), reason="risk_area_visit")
    assert _stored_status(session, person.id) == "yellow"
    now = health.current(session=session, person_id=person.id)
    assert now.status == "yellow" and [f.reason for f in now.flags] == ["risk_area_visit"]
    assert flag(session, person.id, "red", reason="close_contact")
    assert _stored_status(session, person.id) == "red"
    now = health.current(session=session, person_id=person.id)
    assert [f.level for f in now.flags] == ["red", "yellow"] and now.until is None


def test_re_raising_a_dedupe_key_creates_nothing(session, person) -> None:
    assert flag(session, person.id, "red", key="rule:x:1")
    assert not flag(session, person.id, "red", key="rule:x:1")
    assert session.scalar(select(func.count()).select_from(StatusFlag).where(
        StatusFlag.person_id == person.id)) == 1
    assert session.scalar(select(func.count()).select_from(StatusChange).where(
        StatusChange.person_id == person.id)) == 1


def test_clearing_returns_to_green_and_keeps_the_history(session, person) -> None:
    flag(session, person.id, "red", key="rule:y:1")
    assert health.clear_flag(session=session, dedupe_key="rule:y:1", actor=None,
                             reason="negative_test")
    assert not health.clear_flag(session=session, dedupe_key="rule:y:1", actor=None,
                                 reason="negative_test")
    assert _stored_status(session, person.id) == "green"
    # cleared stays cleared: a re-run of the rule raises nothing
    assert not flag(session, person.id, "red", key="rule:y:1")
    assert _stored_status(session, person.id) == "green"
    steps = [(c.event, c.before, c.after)
             for c in reversed(health.history(session=session, person_id=person.id))]
    assert steps == [("raised", "green", "red"), ("cleared", "red", "green")]
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_person_id == person.id)).all()
    assert "health.flag.raise" in actions and "health.flag.clear" in actions


def test_an_expired_flag_stops_counting_and_the_sweep_stores_it(session, person) -> None:
    start = clock.utcnow()
    flag(session, person.id, "red", until=start + timedelta(hours=1))
    flag(session, person.id, "yellow", until=start + timedelta(hours=2))
    try:
        clock.freeze(start + timedelta(hours=1))  # the red ends exactly now
        assert health.current(session=session, person_id=person.id).status == "yellow"
        assert _stored_status(session, person.id) == "red"  # until the sweep runs
        assert health.sweep_expired(session=session) == 1
        assert _stored_status(session, person.id) == "yellow"
        assert health.sweep_expired(session=session) == 0  # settled once
        clock.freeze(start + timedelta(hours=3))
        assert health.sweep_expired(session=session) == 1
        assert _stored_status(session, person.id) == "green"
    finally:
        clock.freeze(None)


@pytest.mark.parametrize("bad", [
    {"level": "green"}, {"level": "purple"}, {"reason": "Not A Code"}, {"source": ""},
    {"dedupe_key": ""}, {"dedupe_key": "k" * 161}, {"evidence": {"x": object()}},
    {"until": in_days(-1)}, {"starts_at": in_days(1)},
])
def test_bad_flags_are_refused_and_change_nothing(session, person, bad) -> None:
    args = {"session": session, "person_id": person.id, "level": "red", "source": "manual",
            "reason": "close_contact", "evidence": {}, "until": None,
            "dedupe_key": f"t:{uuid.uuid4().hex}"} | bad
    with pytest.raises(ValidationFailed):
        health.raise_flag(**args)
    assert _stored_status(session, person.id) == "green"


def test_unknown_person_and_unknown_flag_are_not_found(session) -> None:
    with pytest.raises(NotFound):
        flag(session, uuid.uuid4(), "red")
    with pytest.raises(NotFound):
        health.clear_flag(session=session, dedupe_key="nope", actor=None, reason="negative_test")
