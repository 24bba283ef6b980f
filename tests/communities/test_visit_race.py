"""A copied one-time visitor QR shown at two gates of one compound at the same moment.

Committed data in a database of its own per backend (tests/concurrency.py), each gate
in its own thread, session and transaction, as two gate phones would be.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.communities.visits.models import Visit
from passtrace.core.clock import local_today
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.demo import demo_id_number
from passtrace.people import service as people_service
from passtrace.registrations import service as reg_service
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import RegistrationIn
from tests.concurrency import committed_persona, is_postgres, race, tag


def _id_number() -> str:
    return demo_id_number("520103", "19850505", f"{random.randrange(100, 999)}")


def _approved_visit(rt: Runtime, client: Any) -> dict[str, Any]:
    """A compound with two gates and their guards, and a resident's approved visitor pass."""
    official = committed_persona(rt, client, "official", "area", "520102")
    code = f"520102006{random.randrange(1000):03d}"
    resp = client.post("/api/v1/communities", json={"code": code, "name": f"竞争小区{tag()}"},
                       headers=official.headers)
    assert resp.status_code == 201, resp.text
    gates = [f"GATE-V{tag()}", f"GATE-V{tag()}"]
    for gate in gates:
        resp = client.post("/api/v1/sites", json={
            "code": gate, "name": gate, "kind": "community_gate", "area_code": "520102006",
            "lanes": ["1"], "community_code": code}, headers=official.headers)
        assert resp.status_code == 200, resp.text
    manager = committed_persona(rt, client, "community_manager", "community", code)
    resp = client.post(f"/api/v1/communities/{code}/buildings",
                       json={"name": "1", "units": ["1"]}, headers=manager.headers)
    assert resp.status_code == 201, resp.text
    number = _id_number()
    with rt.sessions() as s:
        person = people_service.register(session=s, vault=rt.vault, actor=None, name="钱七",
                                         id_number=number)
        s.commit()
        person_id = person.id
    resident = committed_persona(rt, client, "public", person_id=person_id)
    resp = client.post(f"/api/v1/communities/{code}/residents", json={
        "building": "1", "unit": "1", "room": "101", "id_number": number, "name": "钱七",
        "phone": "13800000000", "role": "owner"}, headers=manager.headers)
    assert resp.status_code == 201, resp.text
    resp = client.post("/api/v1/visits", headers=resident.headers, json={
        "name": "孙访客", "phone": "13900002222", "id_number": _id_number(),
        "purpose": "送药", "visit_date": local_today().isoformat()})
    assert resp.status_code == 201, resp.text
    visit_id = resp.json()["id"]
    resp = client.post(f"/api/v1/communities/{code}/visits/{visit_id}/approve", json={},
                       headers=manager.headers)
    assert resp.status_code == 200, resp.text
    resp = client.get(f"/api/v1/visits/{visit_id}", headers=resident.headers)
    assert resp.status_code == 200, resp.text
    guards = [committed_persona(rt, client, "checkpoint_staff", "site", g).principal
              for g in gates]
    return {"visit_id": uuid.UUID(visit_id), "pass_id": uuid.UUID(resp.json()["pass_id"]),
            "token": resp.json()["token"], "gates": gates, "guards": guards}


def test_a_copied_visitor_qr_at_two_gates_at_once_lets_one_visitor_in(
        committed_rt, committed_client):
    rt = committed_rt
    world = _approved_visit(rt, committed_client)
    decisions: dict[int, str] = {}

    def go_in(i: int) -> Callable[[Session], None]:
        def call(session: Session) -> None:
            now = datetime.now(UTC)
            checked = reg_service.register(session=session, rt=rt, actor=world["guards"][i],
                                           data=RegistrationIn(
                id=uuid7(), site=world["gates"][i], lane="1", device_key=f"phone-{i}",
                occurred_at=now, sent_at=now, direction="in", method="qr",
                token=world["token"], temperature=36.5))
            row = checked.row
            decisions[i] = row.decision if row.decision == "allow" else ",".join(row.reasons)
        return call

    # Both gates have read the visit (not yet used) before either writes, as two
    # phones scanning the same QR at the same moment would.
    def before(session: Session) -> None:
        session.scalar(select(Visit).where(Visit.pass_id == world["pass_id"]))

    outcomes = race(rt, go_in(0), go_in(1), before=before)
    # PostgreSQL: the second gate waits for the visit's lock, then sees the visitor
    # inside and is denied. SQLite: it is refused as busy (503); the phone retries
    # and is then denied.
    if is_postgres(rt):
        assert outcomes == ["ok", "ok"], (outcomes, decisions)
    else:
        assert sorted(outcomes) in (["ok", "ok"], ["busy", "ok"]), (outcomes, decisions)
        for i, outcome in enumerate(outcomes):
            if outcome == "busy":
                with rt.sessions() as s:
                    go_in(i)(s)
                    s.commit()
    assert sorted(decisions.values()) == ["allow", "already_inside"], (outcomes, decisions)
    with rt.sessions() as s:
        allowed = s.scalar(select(func.count()).select_from(Registration).where(
            Registration.pass_id == world["pass_id"], Registration.decision == "allow"))
        visit = s.get(Visit, world["visit_id"])
        assert visit is not None
        assert allowed == 1, (outcomes, decisions)  # one visitor in on one pass, never two
        assert visit.entered_at is not None and visit.exited_at is None
