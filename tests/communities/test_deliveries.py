"""Deliveries: the gate registers a hand-over, the flat is told, a resident collects."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit.models import AuditEntry
from passtrace.communities.deliveries.models import Delivery
from passtrace.core.runtime import Runtime
from passtrace.notices.models import Notice
from tests.communities.conftest import CODE, GATE, GATE2, Compound

EN = {"Accept-Language": "en"}


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"site": GATE, "building": "1", "unit": "1", "room": "101",
                            "company": "顺丰速运", "courier_phone": "139 0000 1234",
                            "parcels": 2, "temperature": 36.44, "note": "生鲜，请尽快取"}
    data.update(overrides)
    return data


def register(client: TestClient, persona: Any, **overrides: Any) -> dict[str, Any]:
    resp = client.post("/api/v1/deliveries", json=body(**overrides),
                       headers={**persona.headers, **EN})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_a_delivery_is_registered_told_and_collected(
        client: TestClient, rt: Runtime, session: Session, compound: Compound) -> None:
    d = register(client, compound.staff)
    assert d["household"] == "Bldg 1, Unit 1, Room 101" and d["site"] == GATE
    assert d["courier_phone"] == "139****1234" and d["parcels"] == 2
    assert d["temperature"] == 36.4 and d["notified"] == 3 and not d["collected"]
    row = session.get(Delivery, uuid.UUID(d["id"]))
    assert row is not None and row.courier_phone_enc is not None
    assert rt.vault.read(row, "courier_phone_enc") == "13900001234"
    assert b"13900001234" not in row.courier_phone_enc
    for resident in compound.residents:
        told = list(session.scalars(select(Notice).where(Notice.user_id == resident.user.id,
                                                         Notice.kind == "delivery.arrived")))
        assert len(told) == 1 and told[0].params["company"] == "顺丰速运"
        assert told[0].link == "/community/deliveries"

    mine = client.get("/api/v1/deliveries/mine",
                      headers=compound.residents[1].headers).json()["items"]
    assert [m["id"] for m in mine] == [d["id"]]
    first = client.post(f"/api/v1/deliveries/{d['id']}/collect",
                        headers=compound.residents[1].headers)
    assert first.status_code == 200 and first.json()["collected"]
    again = client.post(f"/api/v1/deliveries/{d['id']}/collect",
                        headers=compound.residents[2].headers)
    assert again.status_code == 200
    assert again.json()["collected_at"] == first.json()["collected_at"]
    actions = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.resource_id == d["id"]).order_by(AuditEntry.id)))
    assert actions == ["delivery.create", "delivery.collect"]
    session.expire_all()
    row = session.get(Delivery, uuid.UUID(d["id"]))
    assert row is not None and row.collected_by == compound.residents[1].user.id

    for persona in (compound.manager, compound.staff, compound.official):
        listed = client.get(f"/api/v1/communities/{CODE}/deliveries", headers=persona.headers)
        assert listed.status_code == 200, listed.text
        assert [x["id"] for x in listed.json()["items"]] == [d["id"]]
        assert "13900001234" not in listed.text


def test_the_manager_registers_at_any_gate_staff_only_at_their_own(
        client: TestClient, compound: Compound) -> None:
    wrong = client.post("/api/v1/deliveries", json=body(site=GATE2),
                        headers={**compound.staff.headers, **EN})
    assert wrong.status_code == 404 and wrong.json()["error"]["message"] == "No such gate."
    unknown = client.post("/api/v1/deliveries", json=body(site="NO-SUCH-GATE"),
                          headers=compound.staff.headers)
    assert unknown.status_code == 404
    assert register(client, compound.manager, site=GATE2)["site"] == GATE2


def test_a_resident_or_another_manager_cannot_register(
        client: TestClient, compound: Compound, make_persona: Callable[..., Any]) -> None:
    """A resident: 403 (whatever the gate); another compound's manager: 404."""
    other = make_persona("community_manager", "community", "520102006002")
    for persona, status in ((compound.residents[0], 403), (other, 404)):
        for site in (GATE2, "NO-SUCH-GATE"):
            resp = client.post("/api/v1/deliveries", json=body(site=site),
                               headers=persona.headers)
            assert resp.status_code == status, (persona, site)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"courier_phone": "12345"}, "courier_phone"),
    ({"courier_phone": "1390000123x"}, "courier_phone"),
    ({"building": "9"}, "building"),
    ({"building": "9%"}, "building"),  # a "%" typed is text, not a format
    ({"room": "5%d"}, "room"),
    ({"unit": "7"}, "unit"),
    ({"room": "999"}, "room"),
    ({"company": ""}, "company"),
    ({"company": "  "}, "company"),
    ({"parcels": 0}, "parcels"),
    ({"temperature": 50}, "temperature"),
    ({"note": "a\x00b"}, "note"),
    ({"site": "GATE\x00"}, "site"),
])
def test_it_refuses_bad_deliveries_naming_the_field(
        client: TestClient, session: Session, compound: Compound,
        overrides: dict[str, Any], field: str) -> None:
    resp = client.post("/api/v1/deliveries", json=body(**overrides),
                       headers={**compound.staff.headers, **EN})
    assert resp.status_code == 422, resp.text
    assert field in resp.json()["error"]["fields"], resp.json()
    assert session.scalar(select(Delivery.id)) is None


def test_a_retried_delivery_is_stored_once(client: TestClient, session: Session,
                                           compound: Compound) -> None:
    data = body(id=str(uuid.uuid4()), courier_phone=None, temperature=None)
    first = client.post("/api/v1/deliveries", json=data, headers=compound.staff.headers)
    again = client.post("/api/v1/deliveries", json=data, headers=compound.staff.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == data["id"]
    assert first.json()["courier_phone"] is None and again.json()["notified"] is None
    assert len(list(session.scalars(select(Delivery.id)))) == 1
    assert len(list(session.scalars(select(Notice.id).where(
        Notice.kind == "delivery.arrived")))) == 3
    stolen = client.post("/api/v1/deliveries", json=data, headers=compound.manager.headers)
    assert stolen.status_code == 409


def test_outsiders_neither_see_nor_collect(client: TestClient, compound: Compound,
                                          make_persona: Callable[..., Any]) -> None:
    d = register(client, compound.staff)
    stranger = make_persona("public", name="陌生人")
    other = make_persona("community_manager", "community", "520102006002")
    for persona in (stranger, other, compound.staff, compound.manager):
        resp = client.post(f"/api/v1/deliveries/{d['id']}/collect", headers=persona.headers)
        assert resp.status_code == 404
    # Another compound's manager: the compound does not exist for them. Residents (of
    # this compound or none): refused, the same for any code.
    for persona, status in ((other, 404), (stranger, 403), (compound.residents[0], 403)):
        for code in (CODE, "520102999999"):
            resp = client.get(f"/api/v1/communities/{code}/deliveries",
                              headers=persona.headers)
            assert resp.status_code == status, (code, resp.text)
    assert client.get("/api/v1/deliveries/mine", headers=stranger.headers).json()["items"] == []
    missing = client.post(f"/api/v1/deliveries/{uuid.uuid4()}/collect",
                          headers=compound.residents[0].headers)
    assert missing.status_code == 404


def test_the_day_list_shows_one_local_day(client: TestClient, compound: Compound) -> None:
    d = register(client, compound.staff)
    h = compound.manager.headers
    url = f"/api/v1/communities/{CODE}/deliveries"
    assert [x["id"] for x in client.get(url, headers=h).json()["items"]] == [d["id"]]
    assert client.get(f"{url}?day=2020-01-01", headers=h).json()["items"] == []
    assert client.get(f"{url}?day=9999-12-31", headers=h).status_code == 422
    assert client.get(f"{url}?day=0001-01-01", headers=h).status_code == 422
    assert client.get(f"{url}?day=nope", headers=h).status_code == 422


# --- pages -----------------------------------------------------------------------------------

def test_the_guard_registers_on_the_page(client: TestClient, compound: Compound) -> None:
    h = {**compound.staff.headers, **EN}
    page = client.get(f"/communities/{CODE}/deliveries", headers=h)
    assert page.status_code == 200 and 'id="delivery-form"' in page.text
    assert f'name="site" value="{GATE}"' in page.text
    assert 'id="nav-overview"' not in page.text  # gate staff do not see the compound's pages
    form = {"site": GATE, "building": "1", "unit": "1", "room": "101", "company": "京东物流",
            "courier_phone": "1390000", "parcels": "1", "temperature": "abc", "note": "",
            "request_id": str(uuid.uuid4())}
    bad = client.post(f"/communities/{CODE}/deliveries", data=form, headers=h)
    assert bad.status_code == 422 and 'id="error-temperature"' in bad.text
    bad = client.post(f"/communities/{CODE}/deliveries", data={**form, "temperature": ""},
                      headers=h)
    assert bad.status_code == 422 and 'id="error-courier_phone"' in bad.text
    assert "11 digits" in bad.text
    bad = client.post(f"/communities/{CODE}/deliveries",
                      data={**form, "temperature": "", "courier_phone": "", "room": "909"},
                      headers=h)
    assert bad.status_code == 422 and 'id="error-room"' in bad.text
    good = client.post(f"/communities/{CODE}/deliveries",
                       data={**form, "temperature": "36.6", "courier_phone": "13900001234"},
                       headers=h, follow_redirects=False)
    assert good.status_code == 303, good.text
    shown = client.get(good.headers["location"], headers=h)
    assert 'id="saved"' in shown.text and "3 residents were told" in shown.text
    assert f'data-delivery-id="{form["request_id"]}"' in shown.text
    assert "139****1234" in shown.text and "13900001234" not in shown.text

    r = {**compound.residents[0].headers, **EN}
    mine = client.get("/community/deliveries", headers=r)
    assert mine.status_code == 200 and "京东物流" in mine.text
    assert client.get(f"/communities/{CODE}/deliveries", headers=r).status_code == 403
    collected = client.post(f"/community/deliveries/{form['request_id']}/collect", headers=r,
                            follow_redirects=False)
    assert collected.status_code == 303
    assert "Collected" in client.get("/community/deliveries", headers=r).text


def test_the_manager_chooses_the_gate_and_officials_only_read(
        client: TestClient, compound: Compound) -> None:
    page = client.get(f"/communities/{CODE}/deliveries", headers=compound.manager.headers)
    assert page.status_code == 200 and '<select id="site"' in page.text
    assert 'id="nav-overview"' in page.text
    official = client.get(f"/communities/{CODE}/deliveries?day=nope",
                          headers=compound.official.headers)
    assert official.status_code == 200 and 'id="delivery-form"' not in official.text
    odd = client.post(f"/communities/{CODE}/deliveries", data={"site": GATE2},
                      headers={**compound.manager.headers, **EN})
    assert odd.status_code == 422 and 'id="error-building"' in odd.text


def _delivery_reads(session: Session, person_id: uuid.UUID) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.subject_person_id == person_id, AuditEntry.action == "delivery.view")))


def test_reading_the_day_list_reaches_each_named_flats_access_log(
        client: TestClient, session: Session, compound: Compound) -> None:
    d = register(client, compound.staff)
    register(client, compound.staff, parcels=1)  # the same flat twice: one entry each
    people = [r.user.person_id for r in compound.residents]
    assert all(_delivery_reads(session, p) == [] for p in people)
    listed = client.get(f"/api/v1/communities/{CODE}/deliveries",
                        headers=compound.manager.headers)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2
    for p in people:
        [entry] = _delivery_reads(session, p)
        assert entry.actor_user_id == compound.manager.user.id
    page = client.get(f"/communities/{CODE}/deliveries", headers=compound.staff.headers)
    assert page.status_code == 200 and d["id"] in page.text
    for p in people:
        assert [e.actor_user_id for e in _delivery_reads(session, p)] == [
            compound.manager.user.id, compound.staff.user.id]
    resident = compound.residents[0]
    zh = client.get("/me/access-log", headers=resident.headers).text
    assert "在门岗查看了您家的快递" in zh
    en = client.get("/me/access-log", headers={**resident.headers, **EN}).text
    assert "Viewed your flat&#39;s deliveries at the gate" in en or \
        "Viewed your flat's deliveries at the gate" in en
    # An empty day names nobody and records nothing.
    client.get(f"/api/v1/communities/{CODE}/deliveries?day=2020-01-01",
               headers=compound.manager.headers)
    assert len(_delivery_reads(session, people[0])) == 2
