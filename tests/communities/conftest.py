"""Fixtures for compound tests: a compound with a gate, its manager, staff and residents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from passtrace.core import clock
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.people.models import Person

CODE = "520102006001"
GATE = "GATE-T-N"
GATE2 = "GATE-T-S"


@dataclass
class Compound:
    """A compound (rules off) with two gates, an official, its manager, gate staff and
    a household (Bldg 1, Unit 1, Room 101) of three residents who have logins."""

    official: Any
    manager: Any
    staff: Any
    residents: list[Any]
    id_numbers: list[str]
    household_id: str
    resident_ids: list[str] = field(default_factory=list)

    def rules(self, client: TestClient, **rules: Any) -> dict[str, Any]:
        """Set the compound's rules (others off) as its manager (with a reason, needed
        when a rule gets stricter)."""
        resp = client.put(f"/api/v1/communities/{CODE}/rules",
                          json={"reason_code": "directive", "reason": "区防控办通知", **rules},
                          headers=self.manager.headers)
        assert resp.status_code == 200, resp.text
        return resp.json()


def gate_body(**overrides: Any) -> dict[str, Any]:
    """A gate registration as the checkpoint page sends it (now: the app's clock, which a
    test may hold still)."""
    now = clock.utcnow().isoformat()
    body: dict[str, Any] = {"id": str(uuid7()), "site": GATE, "lane": "1",
                            "device_key": "gate-phone", "occurred_at": now, "sent_at": now,
                            "direction": "out", "method": "id_typed", "temperature": 36.5}
    body.update(overrides)
    return body


def pass_at_gate(client: TestClient, staff: Any, **overrides: Any) -> dict[str, Any]:
    """Register one person at the gate and return the decision."""
    resp = client.post("/api/v1/registrations", json=gate_body(**overrides),
                       headers=staff.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def id_number_of(rt: Runtime, session: Any, persona: Any) -> str:
    """The clear ID number of a persona's person record (tests only)."""
    person = session.get(Person, persona.user.person_id)
    return rt.vault.read(person, "id_enc")


@pytest.fixture
def compound(client: TestClient, rt: Runtime, session: Any,
             make_persona: Callable[..., Any]) -> Compound:
    official = make_persona("official", "area", "520102", name="南明区防控办")
    resp = client.post("/api/v1/communities", json={"code": CODE, "name": "测试小区",
                                                     "address": "南明区测试路1号"},
                       headers=official.headers)
    assert resp.status_code == 201, resp.text
    for code in (GATE, GATE2):
        resp = client.post("/api/v1/sites", json={
            "code": code, "name": f"测试小区{code[-1]}门", "kind": "community_gate",
            "area_code": "520102006", "lanes": ["1"], "community_code": CODE},
            headers=official.headers)
        assert resp.status_code == 200, resp.text
    manager = make_persona("community_manager", "community", CODE, name="物业经理")
    staff = make_persona("checkpoint_staff", "site", GATE, name="门岗")
    for name, units in (("1", ["1", "2"]), ("2", ["1"])):
        resp = client.post(f"/api/v1/communities/{CODE}/buildings",
                           json={"name": name, "units": units}, headers=manager.headers)
        assert resp.status_code == 201, resp.text
    residents = [make_persona("public", name=n) for n in ("张三", "李四", "王五")]
    ids = [id_number_of(rt, session, r) for r in residents]
    compound = Compound(official=official, manager=manager, staff=staff, residents=residents,
                        id_numbers=ids, household_id="")
    for persona, id_number, role in zip(residents, ids, ("owner", "family", "family"),
                                        strict=True):
        resp = client.post(f"/api/v1/communities/{CODE}/residents", json={
            "building": "1", "unit": "1", "room": "101", "id_number": id_number,
            "name": persona.user.display_name, "phone": "13800000000", "role": role},
            headers=manager.headers)
        assert resp.status_code == 201, resp.text
        compound.household_id = resp.json()["household_id"]
        compound.resident_ids.append(resp.json()["id"])
    return compound
