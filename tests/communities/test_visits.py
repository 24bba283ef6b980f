"""Visitors: invite, decide, the one-time visitor pass at the gate, cancel, who may see what."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.audit.models import AuditEntry
from passtrace.codec import decode_pass
from passtrace.communities.compounds.models import Building, Community, Household, Resident
from passtrace.communities.visits import service as visits
from passtrace.communities.visits.models import Visit
from passtrace.communities.visits.schemas import VisitCreate
from passtrace.core.clock import local_midnight, local_today
from passtrace.core.db import make_sessionmaker
from passtrace.core.errors import InvalidState
from passtrace.core.runtime import Runtime
from passtrace.demo import demo_id_number
from passtrace.notices.models import Notice
from passtrace.passes.models import Pass, Revocation
from passtrace.people import service as people_service
from passtrace.registrations.service import load_trust_store
from tests.communities.conftest import CODE, GATE, GATE2, Compound, gate_body, id_number_of
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}
_visitor_seq = iter(range(500, 999))


def today() -> str:
    return local_today().isoformat()


def in_days(n: int) -> str:
    return (local_today() + timedelta(days=n)).isoformat()


def visitor_id() -> str:
    """A fresh, checksum-valid ID number for a visitor."""
    return demo_id_number("520103", "19850505", str(next(_visitor_seq)))


def invite_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "赵访客", "phone": "13900001111", "id_number": visitor_id(),
                            "purpose": "探亲 / family visit", "visit_date": today()}
    body.update(overrides)
    return body


def invite(client: TestClient, persona: Any, **overrides: Any) -> dict[str, Any]:
    resp = client.post("/api/v1/visits", json=invite_body(**overrides),
                       headers={**persona.headers, **EN})
    assert resp.status_code == 201, resp.text
    return resp.json()


def approve(client: TestClient, compound: Compound, visit_id: str) -> dict[str, Any]:
    resp = client.post(f"/api/v1/communities/{CODE}/visits/{visit_id}/approve", json={},
                       headers=compound.manager.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def token_of(client: TestClient, persona: Any, visit_id: str) -> str:
    resp = client.get(f"/api/v1/visits/{visit_id}", headers=persona.headers)
    assert resp.status_code == 200, resp.text
    token = resp.json()["token"]
    assert token and token.startswith("PT1:")
    return str(token)


def scan(client: TestClient, staff: Any, token: str, direction: str,
         site: str = GATE) -> dict[str, Any]:
    resp = client.post("/api/v1/registrations", headers={**staff.headers, **EN},
                       json=gate_body(site=site, direction=direction, method="qr", token=token,
                                      id_number=None))
    assert resp.status_code == 200, resp.text
    return resp.json()


def codes(result: dict[str, Any]) -> list[str]:
    return [r["code"] for r in result["reasons"]]


def stage_in_list(client: TestClient, compound: Compound, visit_id: str) -> str:
    resp = client.get(f"/api/v1/communities/{CODE}/visits", headers=compound.manager.headers)
    assert resp.status_code == 200, resp.text
    found = [v for v in resp.json()["items"] if v["id"] == visit_id]
    assert len(found) == 1, resp.json()
    return str(found[0]["stage"])


def notices_of(session: Session, user_id: uuid.UUID, kind: str) -> list[Notice]:
    session.expire_all()
    return list(session.scalars(select(Notice).where(Notice.user_id == user_id,
                                                     Notice.kind == kind)))


def actions_for(session: Session, resource_id: str) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.resource_id == resource_id).order_by(AuditEntry.id)))


# --- invite and approve ----------------------------------------------------------------------

def test_it_approves_an_invitation_into_a_pass_for_the_compound(
        client: TestClient, session: Session, rt: Runtime, compound: Compound,
        clock_stopped: datetime) -> None:
    # clock_stopped: the visit is for "today" and its pass starts at today's midnight,
    # worked out here and again by the app: one day, even at midnight in China.
    resident = compound.residents[0]
    v = invite(client, resident)
    assert (v["status"], v["stage"], v["stage_label"]) == ("pending", "pending",
                                                            "Waiting for approval")
    assert v["community"] == CODE and v["household"] == "Bldg 1, Unit 1, Room 101"
    assert v["visitor"] == "赵**" and v["phone"] == "139****1111" and v["pass_id"] is None
    assert "赵访客" not in str(v)
    told = notices_of(session, compound.manager.user.id, "visit.pending")
    assert len(told) == 1 and told[0].link == f"/communities/{CODE}/visits?stage=pending"

    decided = approve(client, compound, v["id"])
    assert decided["status"] == decided["stage"] == "approved" and decided["pass_id"]
    token = token_of(client, resident, v["id"])
    claims = decode_pass(token, load_trust_store(session, rt),
                         now=int(datetime.now(UTC).timestamp()))
    assert claims.areas == (CODE,) and claims.sites == () and claims.purpose == "visitor"
    assert claims.holder == "赵**" and claims.pass_id == decided["pass_id"]
    midnight = local_midnight(local_today())
    assert claims.valid_from == int(midnight.timestamp())
    assert claims.valid_until == int((midnight + timedelta(days=1)).timestamp())
    p = session.get(Pass, uuid.UUID(decided["pass_id"]))
    assert p is not None and p.decided_by == compound.manager.user.id
    assert p.status == "approved" and p.areas == [CODE]
    assert notices_of(session, resident.user.id, "visit.approved")
    assert actions_for(session, v["id"])[:2] == ["visit.create", "visit.approve"]
    assert "pass.issue" in actions_for(session, decided["pass_id"])
    # The inviter's reading of the visitor's pass is in the visitor's access log.
    assert "pass.view" in actions_for(session, decided["pass_id"])


def test_the_visitor_pass_lets_the_visitor_in_once_and_out_once(
        client: TestClient, compound: Compound) -> None:
    v = invite(client, compound.residents[0])
    approve(client, compound, v["id"])
    token = token_of(client, compound.residents[0], v["id"])

    first = scan(client, compound.staff, token, "in")
    assert first["decision"] == "allow", first
    assert any("Visitor to Bldg 1, Unit 1, Room 101" in n for n in first["notes"]), first
    assert stage_in_list(client, compound, v["id"]) == "inside"

    again = scan(client, compound.staff, token, "in")
    assert again["decision"] == "deny" and codes(again) == ["already_inside"]

    out = scan(client, compound.staff, token, "out")
    assert out["decision"] == "allow", out
    assert stage_in_list(client, compound, v["id"]) == "left"

    back = scan(client, compound.staff, token, "in")
    assert back["decision"] == "deny" and "visit_used" in codes(back)
    # The pass is used: the inviter no longer gets the QR.
    resp = client.get(f"/api/v1/visits/{v['id']}/qr.png", headers=compound.residents[0].headers)
    assert resp.status_code == 404


def _second_compound(client: TestClient, compound: Compound,
                     make_persona: Callable[..., Any]) -> Any:
    """Another compound of the same street with its own gate and gate staff."""
    resp = client.post("/api/v1/communities", json={"code": "520102006002", "name": "隔壁小区"},
                       headers=compound.official.headers)
    assert resp.status_code == 201, resp.text
    resp = client.post("/api/v1/sites", json={
        "code": "GATE-U-N", "name": "隔壁小区北门", "kind": "community_gate",
        "area_code": "520102006", "lanes": ["1"], "community_code": "520102006002"},
        headers=compound.official.headers)
    assert resp.status_code == 200, resp.text
    return make_persona("checkpoint_staff", "site", "GATE-U-N", name="隔壁门岗")


def test_the_visitor_pass_is_refused_at_another_compounds_gate(
        client: TestClient, compound: Compound, make_persona: Callable[..., Any]) -> None:
    other_staff = _second_compound(client, compound, make_persona)
    v = invite(client, compound.residents[0])
    approve(client, compound, v["id"])
    token = token_of(client, compound.residents[0], v["id"])
    result = scan(client, other_staff, token, "in", site="GATE-U-N")
    assert result["decision"] == "deny"
    assert {"area_not_allowed", "not_resident"} <= set(codes(result)), result
    # ...while any gate of its own compound takes it.
    south = make_persona("checkpoint_staff", "site", GATE2, name="南门门岗")
    assert scan(client, south, token, "in", site=GATE2)["decision"] == "allow"


def test_a_visitor_pass_for_another_day_is_not_valid_today(
        client: TestClient, compound: Compound) -> None:
    v = invite(client, compound.residents[0], visit_date=in_days(2))
    approve(client, compound, v["id"])
    result = scan(client, compound.staff, token_of(client, compound.residents[0], v["id"]), "in")
    assert result["decision"] == "deny" and "not_yet_valid" in codes(result)


def test_the_auto_policy_approves_at_once_and_tells_no_manager(
        client: TestClient, session: Session, compound: Compound) -> None:
    compound.rules(client, visitor_approval="auto")
    v = invite(client, compound.residents[1])
    assert v["status"] == "approved" and v["pass_id"]
    assert notices_of(session, compound.manager.user.id, "visit.pending") == []
    p = session.get(Pass, uuid.UUID(v["pass_id"]))
    assert p is not None and p.decided_by is None and p.areas == [CODE]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.resource_id == v["id"],
                                                    AuditEntry.action == "visit.approve"))
    assert entry is not None and entry.actor_name == "system"
    assert entry.detail["policy"] == "auto"
    token = token_of(client, compound.residents[1], v["id"])
    assert scan(client, compound.staff, token, "in")["decision"] == "allow"


def test_a_rejection_needs_a_reason_which_the_resident_reads(
        client: TestClient, session: Session, compound: Compound) -> None:
    v = invite(client, compound.residents[0])
    url = f"/api/v1/communities/{CODE}/visits/{v['id']}"
    h = {**compound.manager.headers, **EN}
    for body in ({}, {"reason": " "}, {"reason": "x"}):
        resp = client.post(f"{url}/reject", json=body, headers=h)
        assert resp.status_code == 422, resp.text
        assert "reason" in resp.json()["error"]["fields"]
    resp = client.post(f"{url}/reject", json={"reason": "疫情期间暂停探访"}, headers=h)
    assert resp.status_code == 200, resp.text
    assert resp.json()["stage"] == "rejected"
    assert resp.json()["decision_reason"] == "疫情期间暂停探访"
    told = notices_of(session, compound.residents[0].user.id, "visit.rejected")
    assert len(told) == 1 and told[0].params["reason"] == "疫情期间暂停探访"
    again = client.post(f"{url}/approve", json={}, headers=h)
    assert again.status_code == 409 and "already decided" in again.json()["error"]["message"]
    mine = client.get("/api/v1/visits", headers=compound.residents[0].headers).json()["items"]
    assert [m["stage"] for m in mine] == ["rejected"]


def test_cancelling_revokes_the_visitor_pass(
        client: TestClient, session: Session, compound: Compound) -> None:
    resident = compound.residents[0]
    v = invite(client, resident)
    approve(client, compound, v["id"])
    token = token_of(client, resident, v["id"])
    resp = client.post(f"/api/v1/visits/{v['id']}/cancel", json={"reason": "改期"},
                       headers=resident.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["stage"] == "cancelled" and resp.json()["token"] is None
    session.expire_all()
    p = session.get(Pass, uuid.UUID(v["pass_id"] or resp.json()["pass_id"]))
    assert p is not None and p.status == "revoked" and p.revoke_reason == "改期"
    assert session.scalar(select(Revocation).where(Revocation.pass_id == p.id)) is not None
    revoked = client.get("/api/v1/passes/revocations").json()["revoked"]
    assert str(p.id) in [r["pass_id"] for r in revoked]
    result = scan(client, compound.staff, token, "in")
    assert result["decision"] == "deny" and "revoked" in codes(result)
    assert client.get(f"/api/v1/visits/{v['id']}/qr.png",
                      headers=resident.headers).status_code == 404
    again = client.post(f"/api/v1/visits/{v['id']}/cancel", headers=resident.headers)
    assert again.status_code == 409
    assert actions_for(session, v["id"])[-1] == "visit.cancel"


def test_a_visitor_inside_cannot_be_cancelled(client: TestClient, compound: Compound) -> None:
    v = invite(client, compound.residents[0])
    approve(client, compound, v["id"])
    scan(client, compound.staff, token_of(client, compound.residents[0], v["id"]), "in")
    resp = client.post(f"/api/v1/visits/{v['id']}/cancel",
                       headers={**compound.residents[0].headers, **EN})
    assert resp.status_code == 409 and "already come in" in resp.text


# --- who may see and do what -----------------------------------------------------------------

def test_outsiders_get_not_found(client: TestClient, session: Session, compound: Compound,
                                 make_persona: Callable[..., Any]) -> None:
    v = invite(client, compound.residents[0])
    approve(client, compound, v["id"])
    other_manager = make_persona("community_manager", "community", "520102006002")
    stranger = make_persona("public", name="陌生人")
    housemate = compound.residents[1]  # same flat, but not the inviter
    base = f"/api/v1/communities/{CODE}/visits"
    for persona in (other_manager, stranger, housemate):
        assert client.get(base, headers=persona.headers).status_code == 404
        for action in ("approve", "reject"):
            resp = client.post(f"{base}/{v['id']}/{action}", json={"reason": "不行"},
                               headers=persona.headers)
            assert resp.status_code == 404, (action, resp.text)
    for persona in (other_manager, stranger, housemate, compound.staff):
        for path in ("", "/qr.png", "/qr.svg"):
            resp = client.get(f"/api/v1/visits/{v['id']}{path}", headers=persona.headers)
            assert resp.status_code == 404, (path, resp.text)
        resp = client.post(f"/api/v1/visits/{v['id']}/cancel", headers=persona.headers)
        assert resp.status_code == 404
        assert client.get("/api/v1/visits", headers=persona.headers).json()["items"] == []
    # The compound's official sees it (without the pass text); the inviter sees the QR.
    seen = client.get(f"/api/v1/visits/{v['id']}", headers=compound.official.headers)
    assert seen.status_code == 200 and seen.json()["token"] is None
    assert "visit.view" in actions_for(session, v["id"])
    qr = client.get(f"/api/v1/visits/{v['id']}/qr.png", headers=compound.residents[0].headers)
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    svg = client.get(f"/api/v1/visits/{v['id']}/qr.svg?download=true",
                     headers=compound.residents[0].headers)
    assert svg.status_code == 200 and "attachment" in svg.headers["content-disposition"]


def test_a_manager_cannot_decide_their_own_invitation(
        client: TestClient, rt: Runtime, session: Session, compound: Compound) -> None:
    # The manager lives in the compound too.
    manager = compound.manager
    person = people_service.register(session=session, vault=rt.vault, actor=None,
                                     id_number=visitor_id(), name="物业经理")
    user = session.get(type(manager.user), manager.user.id)
    assert user is not None
    user.person_id = person.id
    session.commit()
    resp = client.post(f"/api/v1/communities/{CODE}/residents", json={
        "building": "2", "unit": "1", "room": "202", "id_number": rt.vault.read(person, "id_enc"),
        "name": "物业经理", "phone": "13800000000", "role": "owner"}, headers=manager.headers)
    assert resp.status_code == 201, resp.text
    # A fresh login: the manager's principal now speaks for their person record.
    login = client.post("/api/v1/auth/token", json={"username": manager.user.username,
                                                     "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    v = client.post("/api/v1/visits", json=invite_body(), headers=headers)
    assert v.status_code == 201, v.text
    resp = client.post(f"/api/v1/communities/{CODE}/visits/{v.json()['id']}/approve", json={},
                       headers=headers)
    assert resp.status_code == 403
    assert stage_in_list(client, compound, v.json()["id"]) == "pending"


# --- retries and bad input -------------------------------------------------------------------

def test_a_retried_invitation_returns_the_first_one(
        client: TestClient, session: Session, compound: Compound) -> None:
    body = invite_body(id=str(uuid.uuid4()))
    first = client.post("/api/v1/visits", json=body, headers=compound.residents[0].headers)
    again = client.post("/api/v1/visits", json=body, headers=compound.residents[0].headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == body["id"]
    # The same visitor, day and flat without the id: still the same invitation.
    same = client.post("/api/v1/visits", json={**body, "id": None},
                       headers=compound.residents[0].headers)
    assert same.status_code == 200 and same.json()["id"] == body["id"]
    # Another member of the flat inviting the same person that day is told so.
    other = client.post("/api/v1/visits", json={**body, "id": None},
                        headers={**compound.residents[1].headers, **EN})
    assert other.status_code == 409 and "already invited" in other.text
    # The id belongs to its inviter.
    stolen = client.post("/api/v1/visits", json=body, headers=compound.residents[1].headers)
    assert stolen.status_code == 409
    assert session.scalar(select(Visit).where(Visit.id == uuid.UUID(body["id"]))) is not None
    assert len(notices_of(session, compound.manager.user.id, "visit.pending")) == 1


@pytest.mark.parametrize(("overrides", "field"), [
    ({"visit_date": "yesterday"}, "visit_date"),
    ({"id_number": "520103198505051234"}, "id_number"),
    ({"phone": "12345"}, "phone"),
    ({"name": ""}, "name"),
    ({"name": "赵\x00"}, "name"),
    ({"purpose": "x"}, "purpose"),
    ({"purpose": "  a  "}, "purpose"),
    ({"community": "123"}, "community"),
    ({"visit_date": "9999-12-31"}, "visit_date"),
])
def test_it_refuses_bad_invitations_naming_the_field(
        client: TestClient, compound: Compound, overrides: dict[str, Any], field: str) -> None:
    if overrides.get("visit_date") == "yesterday":
        overrides = {"visit_date": in_days(-1)}
    resp = client.post("/api/v1/visits", json=invite_body(**overrides),
                       headers={**compound.residents[0].headers, **EN})
    assert resp.status_code == 422, resp.text
    assert field in resp.json()["error"]["fields"], resp.json()


def test_it_refuses_dates_past_two_weeks_and_residents_as_visitors(
        client: TestClient, rt: Runtime, session: Session, compound: Compound) -> None:
    h = {**compound.residents[0].headers, **EN}
    assert client.post("/api/v1/visits", json=invite_body(visit_date=in_days(14)),
                       headers=h).status_code == 201
    late = client.post("/api/v1/visits", json=invite_body(visit_date=in_days(15)), headers=h)
    assert late.status_code == 422 and "14 days ahead" in late.json()["error"]["message"]
    housemate = client.post("/api/v1/visits",
                            json=invite_body(id_number=compound.id_numbers[1]), headers=h)
    assert housemate.status_code == 422
    assert "needs no visitor pass" in housemate.json()["error"]["fields"]["id_number"]


def test_only_residents_may_invite(client: TestClient, compound: Compound,
                                   make_persona: Callable[..., Any]) -> None:
    for persona in (make_persona("public", name="路人"), compound.manager):
        resp = client.post("/api/v1/visits", json=invite_body(),
                           headers={**persona.headers, **EN})
        assert resp.status_code == 422
        assert "Only residents can invite visitors" in resp.json()["error"]["message"]
    zh = client.post("/api/v1/visits", json=invite_body(), headers=compound.manager.headers)
    assert "住户" in zh.json()["error"]["message"]


def test_a_resident_of_two_compounds_names_the_one(
        client: TestClient, rt: Runtime, session: Session, compound: Compound,
        make_persona: Callable[..., Any]) -> None:
    _second_compound(client, compound, make_persona)
    other_manager = make_persona("community_manager", "community", "520102006002")
    resp = client.post("/api/v1/communities/520102006002/buildings", json={"name": "8"},
                       headers=other_manager.headers)
    assert resp.status_code == 201, resp.text
    resident = compound.residents[2]
    resp = client.post("/api/v1/communities/520102006002/residents", json={
        "building": "8", "unit": "1", "room": "801",
        "id_number": id_number_of(rt, session, resident), "name": "王五", "role": "tenant"},
        headers=other_manager.headers)
    assert resp.status_code == 201, resp.text
    h = {**resident.headers, **EN}
    unsure = client.post("/api/v1/visits", json=invite_body(), headers=h)
    assert unsure.status_code == 422 and "community" in unsure.json()["error"]["fields"]
    wrong = client.post("/api/v1/visits", json=invite_body(community="520102006009"),
                        headers=h)
    assert wrong.status_code == 422 and "community" in wrong.json()["error"]["fields"]
    v = invite(client, resident, community="520102006002")
    assert v["community"] == "520102006002" and v["household"] == "Bldg 8, Unit 1, Room 801"
    listed = client.get("/api/v1/communities/520102006002/visits",
                        headers=other_manager.headers).json()["items"]
    assert [x["id"] for x in listed] == [v["id"]]


def test_the_list_filters_by_stage_and_day(client: TestClient, compound: Compound) -> None:
    a = invite(client, compound.residents[0])
    b = invite(client, compound.residents[0], visit_date=in_days(3))
    approve(client, compound, a["id"])
    h = compound.manager.headers
    base = f"/api/v1/communities/{CODE}/visits"
    assert {v["id"] for v in client.get(base, headers=h).json()["items"]} == {a["id"], b["id"]}
    assert [v["id"] for v in client.get(f"{base}?status=pending",
                                        headers=h).json()["items"]] == [b["id"]]
    assert [v["id"] for v in client.get(f"{base}?status=approved",
                                        headers=h).json()["items"]] == [a["id"]]
    assert [v["id"] for v in client.get(f"{base}?day={in_days(3)}",
                                        headers=h).json()["items"]] == [b["id"]]
    assert client.get(f"{base}?status=bogus", headers=h).status_code == 422
    # Every date input is bounded in one place (core.validators.Day): a clear 422.
    assert client.get(f"{base}?day=9999-12-31", headers=h).status_code == 422


# --- two managers at once --------------------------------------------------------------------

def _committed_visit(factory: Any, rt: Runtime) -> tuple[uuid.UUID, str, list[Any], Any]:
    """Commit a compound, a household, a resident's invitation and two managers."""
    tag = uuid.uuid4().hex[:8]
    code = "5201110099" + f"{int(tag, 16) % 100:02d}"
    with factory() as s:
        c = Community(code=code, name=f"并发小区{tag}", visitor_approval="manual",
                      window_days=1)
        s.add(c)
        s.flush()
        b = Building(community_id=c.id, name="1", units=["1"])
        s.add(b)
        s.flush()
        h = Household(community_id=c.id, building_id=b.id, unit="1", room="101")
        s.add(h)
        person = people_service.register(session=s, vault=rt.vault, actor=None, name="钱七",
                                         id_number=visitor_id())
        s.flush()
        s.add(Resident(community_id=c.id, household_id=h.id, person_id=person.id,
                       role="owner"))
        inviter = account_service.create(session=s, rt=rt, actor=None,
                                         username=f"inviter-{tag}", password=PASSWORD,
                                         display_name="钱*", person_id=person.id)
        account_service.grant(session=s, actor=None, user=inviter, role="public")
        managers = []
        for i in range(2):
            user = account_service.create(session=s, rt=rt, actor=None,
                                          username=f"mgr{i}-{tag}", password=PASSWORD,
                                          display_name=f"经理{i}")
            account_service.grant(session=s, actor=None, user=user, role="community_manager",
                                  scope_type="community", scope_value=code)
            managers.append(account_service.principal_for(user))
        s.flush()
        v, _ = visits.invite(session=s, rt=rt, actor=account_service.principal_for(inviter),
                             data=VisitCreate(name="孙访客", phone="13900002222",
                                              id_number=visitor_id(), purpose="送药",
                                              visit_date=local_today()))
        s.commit()
        return v.id, code, managers, c.id


def _drop_committed(factory: Any, visit_id: uuid.UUID, community_id: uuid.UUID) -> None:
    with factory() as s:
        pass_ids = list(s.scalars(select(Visit.pass_id).where(Visit.id == visit_id)))
        s.execute(delete(Visit).where(Visit.community_id == community_id))
        s.execute(delete(Revocation).where(Revocation.pass_id.in_([p for p in pass_ids if p])))
        s.execute(delete(Pass).where(Pass.id.in_([p for p in pass_ids if p])))
        s.execute(delete(Resident).where(Resident.community_id == community_id))
        s.execute(delete(Household).where(Household.community_id == community_id))
        s.execute(delete(Building).where(Building.community_id == community_id))
        s.execute(delete(Notice).where(Notice.dedupe_key.like(f"visit.%:{visit_id}%")))
        s.execute(delete(Community).where(Community.id == community_id))
        s.commit()


def test_two_managers_deciding_at_once_leave_one_decision(db_engine: Any, rt: Runtime) -> None:
    # PostgreSQL: the row lock makes the loser see the decision (409).
    # SQLite: one writer at a time; the loser is refused as busy (503, retry -> 409).
    loser = ("conflict",) if db_engine.dialect.name == "postgresql" else ("conflict", "busy")
    factory = make_sessionmaker(db_engine)
    visit_id, code, managers, community_id = _committed_visit(factory, rt)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(i: int) -> None:
        with factory() as s:
            # Both read the compound first, as the request does, then race for the visit.
            s.scalar(select(Community).where(Community.code == code))
            barrier.wait()
            try:
                if i == 0:
                    visits.approve(session=s, rt=rt, actor=managers[0], code=code,
                                   visit_id=visit_id)
                else:
                    visits.reject(session=s, actor=managers[1], code=code, visit_id=visit_id,
                                  reason="同时拒绝")
                s.commit()
                outcomes.append("approve" if i == 0 else "reject")
            except InvalidState:
                s.rollback()
                outcomes.append("conflict")
            except OperationalError as exc:
                s.rollback()
                outcomes.append("busy" if "locked" in str(exc) else f"error: {exc!r}")
            except Exception as exc:  # noqa: BLE001 - recorded; the assertion shows it
                s.rollback()
                outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    try:
        winners = [o for o in outcomes if o in ("approve", "reject")]
        losers = [o for o in outcomes if o not in winners]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert losers[0] in loser, outcomes
        with Session(db_engine) as s:
            final = s.get(Visit, visit_id)
            assert final is not None
            assert final.status == ("approved" if winners == ["approve"] else "rejected")
            assert (final.pass_id is not None) == (winners == ["approve"])
    finally:
        _drop_committed(factory, visit_id, community_id)


# --- pages -----------------------------------------------------------------------------------

def test_the_resident_invites_from_the_page_with_errors_beside_the_fields(
        client: TestClient, compound: Compound) -> None:
    h = {**compound.residents[0].headers, **EN}
    page = client.get("/community/visits", headers=h)
    assert page.status_code == 200 and 'id="invite-form"' in page.text
    assert "Bldg 1, Unit 1, Room 101" in page.text
    form = {"name": "赵访客", "phone": "12", "id_number": "520103198505051234",
            "purpose": "探亲", "visit_date": "", "community": CODE,
            "request_id": str(uuid.uuid4())}
    bad = client.post("/community/visits", data=form, headers=h)
    assert bad.status_code == 422
    assert 'id="error-visit_date"' in bad.text and "Enter a date." in bad.text
    assert 'value="520103198505051234"' in bad.text  # what was typed is kept
    bad = client.post("/community/visits", data={**form, "visit_date": today()}, headers=h)
    assert bad.status_code == 422 and 'id="error-id_number"' in bad.text
    good = client.post("/community/visits", data={**form, "visit_date": today(),
                                                  "id_number": visitor_id(),
                                                  "phone": "13900001111"},
                       headers=h, follow_redirects=False)
    assert good.status_code == 303, good.text
    assert good.headers["location"] == f"/community/visits/{form['request_id']}"
    detail = client.get(good.headers["location"], headers=h)
    assert 'data-stage="pending"' in detail.text and 'id="visit-qr"' not in detail.text
    assert "赵访客" not in detail.text and "赵**" in detail.text


def test_the_manager_decides_on_the_page_and_the_resident_gets_the_qr(
        client: TestClient, compound: Compound, make_persona: Callable[..., Any]) -> None:
    a = invite(client, compound.residents[0])
    b = invite(client, compound.residents[0], visit_date=in_days(1))
    h = {**compound.manager.headers, **EN}
    page = client.get(f"/communities/{CODE}/visits", headers=h)
    assert page.status_code == 200
    assert f'data-visit-id="{a["id"]}" data-stage="pending"' in page.text
    assert 'id="nav-visits"' in page.text
    refused = client.post(f"/communities/{CODE}/visits/{b['id']}/reject",
                          data={"reason": "", "back": f"/communities/{CODE}/visits"},
                          headers=h)
    assert refused.status_code == 422 and 'id="row-error"' in refused.text
    assert "Please give a reason." in refused.text
    done = client.post(f"/communities/{CODE}/visits/{a['id']}/approve",
                       data={"back": f"/communities/{CODE}/visits?stage=pending"},
                       headers=h, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/communities/{CODE}/visits?stage=pending"
    elsewhere = client.post(f"/communities/{CODE}/visits/{b['id']}/approve",
                            data={"back": "https://evil.example/"}, headers=h,
                            follow_redirects=False)
    assert elsewhere.headers["location"] == f"/communities/{CODE}/visits"
    twice = client.post(f"/communities/{CODE}/visits/{a['id']}/approve", data={}, headers=h)
    assert twice.status_code == 409 and "already decided" in twice.text

    r = {**compound.residents[0].headers, **EN}
    detail = client.get(f"/community/visits/{a['id']}", headers=r)
    assert 'id="visit-qr"' in detail.text and 'id="visit-token"' in detail.text
    assert client.get(f"/community/visits/{a['id']}/print", headers=r).status_code == 200
    mine = client.get("/community/visits", headers=r)
    assert f'data-visit-id="{a["id"]}" data-stage="approved"' in mine.text
    cancelled = client.post(f"/community/visits/{a['id']}/cancel", data={"reason": "改天"},
                            headers=r, follow_redirects=False)
    assert cancelled.status_code == 303
    after = client.get(f"/community/visits/{a['id']}", headers=r)
    assert 'data-stage="cancelled"' in after.text and 'id="visit-qr"' not in after.text
    again = client.post(f"/community/visits/{a['id']}/cancel", data={}, headers=r)
    assert again.status_code == 409 and 'id="form-message"' in again.text

    stranger = make_persona("public", name="陌生人")
    for path in (f"/communities/{CODE}/visits", f"/community/visits/{b['id']}",
                 f"/community/visits/{b['id']}/print"):
        assert client.get(path, headers=stranger.headers).status_code == 404, path
    alone = client.get("/community/visits", headers={**stranger.headers, **EN})
    assert alone.status_code == 200 and 'id="not-resident"' in alone.text


def test_the_manager_page_survives_odd_queries(client: TestClient, compound: Compound) -> None:
    h = compound.manager.headers
    for query in ("?day=nope", "?day=9999-12-31", "?stage=%00", "?day=0001-01-01&stage=left",
                  "?stage=inside"):
        assert client.get(f"/communities/{CODE}/visits{query}", headers=h).status_code == 200
    assert client.get("/communities/12%00/visits", headers=h).status_code == 404


def test_a_known_visitor_is_shown_with_the_phone_typed_for_this_visit(client, compound):
    same_person = visitor_id()
    first = invite(client, compound.residents[0], id_number=same_person, phone="13900001111")
    again = invite(client, compound.residents[0], id_number=same_person, phone="13700002222",
                   visit_date=in_days(1))
    assert first["phone"] == "139****1111"
    assert again["phone"] == "137****2222"
