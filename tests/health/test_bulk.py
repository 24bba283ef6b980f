"""health.bulk.raise_selected gives what raise_flag one by one gives (both databases):
the same flags, history, stored statuses, audit entries and notices, on twins of
people in every state a batch can meet."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, Uuid, func, literal, select, union_all, update

from passtrace.audit.models import AuditEntry
from passtrace.audit.verify import verify
from passtrace.core.clock import utcnow
from passtrace.core.db import UTCDateTime
from passtrace.health import bulk
from passtrace.health import service as health
from passtrace.health.models import StatusChange, StatusFlag
from passtrace.notices.models import Notice
from passtrace.people.models import Person
from tests.health.conftest import flag, in_days, new_person
from tests.passes.helpers import apply

Spec = tuple[int, str, str, datetime | None]  # (person index, level, reason, until)


def _world(session, rt, make_persona, client, now: datetime) -> tuple[list[uuid.UUID], str]:  # type: ignore[no-untyped-def]
    """Seven people in the states a batch meets; `old` is a key raised already."""
    old = f"old:{uuid.uuid4().hex}"
    resident = make_persona("public", name="王五")
    apply(client, resident.headers, areas=["520102006"])
    people = [new_person(session, rt).id for _ in range(6)] + [resident.user.person_id]
    fresh, red, stale, expired, cleared, rerun, account = people
    flag(session, red, "red", reason="close_contact")
    flag(session, expired, "red", reason="close_contact", starts_at=now - timedelta(days=10),
         until=now - timedelta(days=1))
    flag(session, cleared, "red", key=f"c:{old}", reason="close_contact")
    health.clear_flag(session=session, dedupe_key=f"c:{old}", actor=None, reason="negative_test")
    flag(session, rerun, "yellow", key=f"{rerun}:{old}")
    # A status stored before its flags ran out, not swept yet.
    session.execute(update(Person).where(Person.id == stale).values(status="red"))
    session.flush()
    return people, old


def _batch(people: list[uuid.UUID], old: str, week: datetime,
           ten: datetime) -> list[tuple[uuid.UUID, str, str, datetime | None, str]]:
    fresh, red, stale, expired, cleared, rerun, account = people
    specs: list[tuple[uuid.UUID, str, str, datetime | None]] = [
        (fresh, "yellow", "risk_area_visit", week), (red, "yellow", "risk_area_visit", week),
        (fresh, "red", "close_contact", ten), (stale, "yellow", "fever_checkpoint", None),
        (expired, "yellow", "risk_area_visit", week), (fresh, "yellow", "fever_report", None),
        (cleared, "yellow", "fever_checkpoint", None), (rerun, "yellow", "risk_area_visit", week),
        (account, "yellow", "risk_area_visit", week), (account, "red", "close_contact", None)]
    out = []
    for n, (person, level, reason, until) in enumerate(specs):
        key = f"{person}:{old}" if person == rerun else f"{person}:{n}"
        out.append((person, level, reason, until, key))
    return out


def _select(batch: list[Any]) -> Any:
    return union_all(*[select(
        literal(person, Uuid).label("person_id"), literal(level, String).label("level"),
        literal("warnings.test", String).label("source"), literal(reason, String).label("reason"),
        literal({"n": n}, JSON).label("evidence"), literal(until, UTCDateTime()).label("until"),
        literal(key, String).label("dedupe_key"), literal(n + 1).label("ord"))
        for n, (person, level, reason, until, key) in enumerate(batch)])


def _outcome(session, person_id: uuid.UUID) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    session.expire_all()
    flags = session.scalars(select(StatusFlag).where(StatusFlag.person_id == person_id)
                            .order_by(StatusFlag.id)).all()
    changes = session.scalars(select(StatusChange).where(StatusChange.person_id == person_id)
                              .order_by(StatusChange.at, StatusChange.id)).all()
    audits = session.scalars(select(AuditEntry.detail).where(
        AuditEntry.subject_person_id == person_id, AuditEntry.action == "health.flag.raise")
        .order_by(AuditEntry.seq)).all()
    return {
        "status": session.scalar(select(Person.status).where(Person.id == person_id)),
        "derived": health.current(session=session, person_id=person_id).status,
        "flags": [(f.level, f.reason, f.until, f.evidence, f.cleared_at is None) for f in flags],
        "history": [(c.event, c.reason, c.before, c.after) for c in changes],
        "audit": audits,
        "notices": session.scalar(select(func.count()).select_from(Notice).where(
            Notice.kind == "health.status", Notice.user_id == _user(person_id))),
    }


def _user(person_id: uuid.UUID) -> Any:
    from passtrace.accounts.models import User

    return select(User.id).where(User.person_id == person_id).scalar_subquery()


def test_the_bulk_path_ends_where_raise_flag_one_by_one_ends(session, rt, make_persona,
                                                             client) -> None:
    now = utcnow()
    ours, old = _world(session, rt, make_persona, client, now)
    theirs, their_old = _world(session, rt, make_persona, client, now)
    week, ten = in_days(7), in_days(10)
    mine, reference = _batch(ours, old, week, ten), _batch(theirs, their_old, week, ten)
    assert bulk.raise_selected(session=session, rows=_select(mine)) == 9  # not `old`
    raised = sum(health.raise_flag(session=session, person_id=p, level=level,
                                   source="warnings.test", reason=reason,
                                   evidence={"n": n}, until=until, dedupe_key=key)
                 for n, (p, level, reason, until, key) in enumerate(reference))
    assert raised == 9
    for a, b in zip(ours, theirs, strict=True):
        assert _outcome(session, a) == _outcome(session, b)
    fresh = _outcome(session, ours[0])
    assert [h[2:] for h in fresh["history"]] == [("green", "yellow"), ("yellow", "red"),
                                                ("red", "red")]
    assert [_outcome(session, p)["status"] for p in ours] == [
        "red", "red", "yellow", "yellow", "yellow", "yellow", "red"]
    assert _outcome(session, ours[6])["notices"] == 2  # green -> yellow -> red
    assert verify(session=session).broken is None
    # A re-run raises nothing and changes nothing.
    before = [_outcome(session, p) for p in ours]
    assert bulk.raise_selected(session=session, rows=_select(mine)) == 0
    assert [_outcome(session, p) for p in ours] == before


def test_a_bad_flag_in_a_batch_changes_nothing(session, rt) -> None:
    import pytest

    from passtrace.core.errors import ValidationFailed

    person = new_person(session, rt).id
    rows = _select([(person, "yellow", "risk_area_visit", None, "k:1"),
                    (person, "purple", "risk_area_visit", None, "k:2")])
    with pytest.raises(ValidationFailed):
        bulk.raise_selected(session=session, rows=rows)
    assert session.scalar(select(func.count()).select_from(StatusFlag).where(
        StatusFlag.person_id == person)) == 0
    assert session.scalar(select(Person.status).where(Person.id == person)) == "green"
