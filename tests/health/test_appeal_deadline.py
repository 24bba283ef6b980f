"""Appeal deadlines: the person and the official see when an official must decide; an
appeal left undecided past it is escalated once to the officials of the next area up,
who may then decide it (both databases; the race on committed data)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from passtrace.core.clock import utcnow
from passtrace.health import escalation
from passtrace.health import service as health
from passtrace.health.models import StatusAppeal, StatusFlag
from passtrace.notices.models import Notice
from passtrace.notices.service import InAppNotifier
from tests.concurrency import is_postgres, race, tag
from tests.conftest import PASSWORD
from tests.health.conftest import flag, in_days


def _appeal(client, session, cast) -> dict:  # type: ignore[no-untyped-def,type-arg]
    person_id = cast["resident"].user.person_id
    flag(session, person_id, "red", reason="close_contact", until=in_days(14))
    session.commit()
    flag_id = session.scalar(select(StatusFlag.id).where(StatusFlag.person_id == person_id))
    resp = client.post("/api/v1/health/appeals", headers=cast["resident"].headers,
                       json={"flag_id": str(flag_id), "statement": "当天我不在现场"})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _escalation_notices(session, user_id) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == user_id, Notice.kind == "health.appeal.escalated")) or 0


def test_the_deadline_is_the_setting_and_both_sides_see_it(client, session, rt, cast) -> None:
    appeal = _appeal(client, session, cast)
    hours = rt.settings.health_appeal_hours
    stored = session.get(StatusAppeal, uuid.UUID(appeal["id"]))
    assert stored is not None
    assert abs((stored.due_at - stored.created_at) - timedelta(hours=hours)) \
        < timedelta(seconds=5)
    queue = client.get("/api/v1/health/appeals", headers=cast["official"].headers).json()
    assert [a["due_at"] for a in queue["items"] if a["id"] == appeal["id"]] == [
        appeal["due_at"]]


def test_an_overdue_appeal_goes_to_the_next_area_up_once(client, session, cast,
                                                         make_persona) -> None:
    city = make_persona("official", "area", "520100")
    appeal = _appeal(client, session, cast)
    notifier = InAppNotifier(session)
    # before the deadline: nothing moves
    assert escalation.escalate_overdue(session=session, notifier=notifier) == 0
    later = utcnow() + timedelta(hours=500)
    assert escalation.escalate_overdue(session=session, notifier=notifier, now=later) == 1
    assert escalation.escalate_overdue(session=session, notifier=notifier, now=later) == 0
    session.commit()
    assert _escalation_notices(session, city.user.id) == 1
    # the district officials who let it lapse are not the ones told
    assert _escalation_notices(session, cast["official"].user.id) == 0
    assert _escalation_notices(session, cast["other"].user.id) == 0
    # the city official sees it, marked escalated, and decides it
    mine = client.get("/api/v1/health/appeals", headers=city.headers).json()["items"]
    assert [a["escalated"] for a in mine if a["id"] == appeal["id"]] == [True]
    resp = client.post(f"/api/v1/health/appeals/{appeal['id']}/decision",
                       headers=city.headers, json={"grant": False, "reason": "核实确有接触"})
    assert resp.status_code == 200 and resp.json()["state"] == "refused"


def test_the_pages_show_the_deadline_and_the_escalation(client, session, cast,
                                                        make_persona) -> None:
    city = make_persona("official", "area", "520100")
    appeal = session.get(StatusAppeal, uuid.UUID(_appeal(client, session, cast)["id"]))
    assert appeal is not None
    appeal.due_at = utcnow() - timedelta(minutes=1)  # the deadline passed undecided
    assert escalation.escalate_overdue(session=session, notifier=InAppNotifier(session)) == 1
    session.commit()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": city.user.username, "password": PASSWORD,
                                "csrf_token": csrf, "next": "/health/queue"})
    queue = client.get("/health/queue")
    assert "须于" in queue.text and "逾期" in queue.text
    assert "已上报给上级工作人员" in queue.text


def test_two_runners_at_once_escalate_an_appeal_once(committed_rt) -> None:  # type: ignore[no-untyped-def]
    """Without the claiming UPDATE (escalated_at still empty) both runners read the
    appeal as due and each escalates it: two escalations, two rounds of notices."""
    from passtrace.people import service as people_service
    from tests.conftest import next_id_number

    with committed_rt.sessions() as session:
        person = people_service.register(session=session, vault=committed_rt.vault,
                                         actor=None, id_number=next_id_number(),
                                         name="竞争", phone="13800000000")
        key = f"race:{tag()}"
        health.raise_flag(session=session, person_id=person.id, level="red",
                          source="close_contact", reason="close_contact", evidence={},
                          until=None, dedupe_key=key)
        flag_id = session.scalar(select(StatusFlag.id).where(StatusFlag.dedupe_key == key))
        appeal = StatusAppeal(flag_id=flag_id, person_id=person.id, statement="不在现场",
                              due_at=utcnow() - timedelta(hours=1), state="pending")
        session.add(appeal)
        session.commit()
        appeal_id = appeal.id
    moved: list[int] = []

    def run(s) -> None:  # type: ignore[no-untyped-def]
        moved.append(escalation.escalate_overdue(session=s, notifier=InAppNotifier(s),
                                                 limit=100_000))

    outcomes = race(committed_rt, run, run)
    if is_postgres(committed_rt):
        assert outcomes == ["ok", "ok"]
    else:
        assert sorted(outcomes) in (["ok", "ok"], ["busy", "ok"])
    with committed_rt.sessions() as session:
        stored = session.get(StatusAppeal, appeal_id)
        assert stored is not None and stored.escalated_at is not None
    # the appeal escalated once, whichever runner claimed it
    assert sum(moved) == 1
