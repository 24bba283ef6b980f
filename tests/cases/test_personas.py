"""Three personas: the official of the case's area, an official of another area, a resident;
and every read or change reaching the person's access log."""

from __future__ import annotations

import pytest

from passtrace.core.security import Principal
from tests.cases.conftest import audit_actions, new_case
from tests.conftest import next_id_number


@pytest.fixture
def case(client, cast):  # type: ignore[no-untyped-def]
    return new_case(client, cast["official"].headers)


def test_the_official_of_the_area_reads_lists_and_changes_the_case(client, cast, case):
    h = cast["official"].headers
    assert client.get(f"/api/v1/cases/{case['id']}", headers=h).status_code == 200
    assert case["id"] in [c["id"] for c in client.get("/api/v1/cases", headers=h).json()["items"]]
    closed = client.post(f"/api/v1/cases/{case['id']}/close", json={}, headers=h)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    reopened = client.post(f"/api/v1/cases/{case['id']}/reopen", json={"version": 2}, headers=h)
    assert reopened.json()["status"] == "open" and reopened.json()["version"] == 3
    assert reopened.json()["closed_at"] is None
    events = client.get(f"/api/v1/cases/{case['id']}/history", headers=h).json()["items"]
    assert [e["action"] for e in events] == ["create", "close", "reopen"]
    assert events[1]["changes"]["status"] == ["open", "closed"]
    assert events[0]["actor"] == "南明疾控"


def test_an_official_of_another_area_gets_not_found_everywhere(client, cast, case):
    h, cid = cast["outsider"].headers, case["id"]
    assert client.get(f"/api/v1/cases/{cid}", headers=h).status_code == 404
    assert client.get(f"/api/v1/cases/{cid}/history", headers=h).status_code == 404
    assert client.patch(f"/api/v1/cases/{cid}", json={"version": 1, "notes": "x"},
                        headers=h).status_code == 404
    assert client.post(f"/api/v1/cases/{cid}/close", json={}, headers=h).status_code == 404
    assert cid not in [c["id"] for c in client.get("/api/v1/cases", headers=h).json()["items"]]
    assert client.get(f"/cases/{cid}", headers=h).status_code == 404


def test_an_official_cannot_open_a_case_outside_the_jurisdiction(client, cast):
    resp = client.post("/api/v1/cases", headers=cast["outsider"].headers, json={
        "id_number": "110101199003074514", "onset_date": "2026-11-20", "area_code": "520102"})
    assert resp.status_code == 422
    assert set(resp.json()["error"]["fields"]) == {"area_code"}


def test_a_resident_is_forbidden(client, cast, case):
    h = cast["resident"].headers
    assert client.get("/api/v1/cases", headers=h).status_code == 403
    assert client.get(f"/api/v1/cases/{case['id']}", headers=h).status_code == 403
    assert client.post("/api/v1/cases", headers=h, json={
        "id_number": "110101199003074514", "onset_date": "2026-11-20",
        "area_code": "520102"}).status_code == 403
    assert client.get("/cases", headers=h).status_code == 403


def test_a_city_official_sees_a_district_case(client, make_persona, case):
    city = make_persona("official", "area", "520100")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=city.headers).status_code == 200


def test_the_person_sees_who_opened_changed_and_read_their_case(client, session, cast, case):
    h, pid = cast["official"].headers, case["person"]["person_id"]
    client.get(f"/api/v1/cases/{case['id']}", headers=h)
    client.get("/api/v1/cases", headers=h)
    client.patch(f"/api/v1/cases/{case['id']}", json={"version": 1,
                                                       "classification": "suspected"}, headers=h)
    client.get(f"/cases/{case['id']}", headers=h)  # the page reads the timeline
    actions = audit_actions(session, pid)
    assert actions[0] == "person.register"  # an unknown ID number became a protected record
    for action in ("case.create", "case.view", "case.reclassify", "case.timeline"):
        assert action in actions, actions
    assert actions.count("case.view") >= 3  # the API read, the list, the page


def test_an_unknown_id_number_becomes_a_nameless_protected_record(client, session, rt, cast):
    from passtrace.people import service as people_service

    number = next_id_number()
    c = new_case(client, cast["official"].headers, id_number=number)
    person = people_service.find_by_id_number(session=session, vault=rt.vault, id_number=number)
    assert person is not None and str(person.id) == c["person"]["person_id"]
    assert person.name_masked == "" and person.identity_proofed_at is None
    assert c["person"]["id_number"] != number and c["person"]["id_number"][-4:] == number[-4:]


def test_an_existing_person_by_id_opens_one_open_case_only(client, cast):
    h = cast["official"].headers
    resident_person = cast["resident"].principal.person_id
    assert isinstance(cast["resident"].principal, Principal)
    first = client.post("/api/v1/cases", headers=h, json={
        "person_id": str(resident_person), "onset_date": "2026-11-20", "area_code": "520102"})
    assert first.status_code == 201 and first.json()["person"]["name"] == "王*"
    again = client.post("/api/v1/cases", headers=h, json={
        "person_id": str(resident_person), "onset_date": "2026-11-21", "area_code": "520102"})
    assert again.status_code == 409


def test_the_person_reads_it_in_who_viewed_my_data(client, cast):
    h = cast["official"].headers
    c = client.post("/api/v1/cases", headers=h, json={
        "person_id": str(cast["resident"].principal.person_id), "onset_date": "2026-11-20",
        "area_code": "520102"}).json()
    assert client.get(f"/cases/{c['id']}", headers=h).status_code == 200
    log = client.get("/me/access-log", headers=cast["resident"].headers)
    assert log.status_code == 200
    for label in ("建立了病例", "查看了病例", "因病例查看了行动轨迹"):
        assert label in log.text, label
