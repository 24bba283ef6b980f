"""An employer reads back what it uploaded, never the person registry (issue 11, finding 2)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from passtrace.people.models import Person
from tests.enterprises.conftest import id_number, link_employee


def _add(client, world, seq, name, phone):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees",
                       headers=world.admin.headers,
                       json={"name": name, "id_number": id_number(seq), "phone": phone,
                             "department_id": world.depts["生产部"],
                             "employee_no": f"E{seq:04d}"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _reveal(client, headers, person_id, field):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/people/{person_id}/reveal", headers=headers,
                       json={"field": field, "purpose": "identity_check",
                             "reason": "核对员工信息与名单"})


def test_hr_adding_anyone_as_staff_learns_only_what_it_typed(client, world, rt, session):
    # Someone is already known to the registry, with their own name and phone.
    from passtrace.people import service as people_service

    person = people_service.register(session=session, vault=rt.vault, actor=None,
                                     id_number=id_number(61), name="陈静",
                                     phone="13885019999")
    people_service.set_own_identity(session=session, vault=rt.vault, person=person,
                                    name="陈静", phone="13885019999")
    session.commit()
    # HR "adds" that ID number with a made-up name and phone.
    emp = _add(client, world, 61, "某员工", "13912340000")
    assert emp["person_id"] == str(person.id)
    assert emp["name"] == "某**" and emp["phone"] != person.phone_masked
    shown = client.get(f"/api/v1/enterprises/{world.ent['id']}/employees/{emp['id']}",
                       headers=world.admin.headers).json()
    assert shown["name"] == "某**"
    # Reveal gives HR back its own claim, not the registry's name and phone.
    name = _reveal(client, world.admin.headers, emp["person_id"], "name")
    phone = _reveal(client, world.admin.headers, emp["person_id"], "phone")
    assert name.status_code == 200 and name.json()["value"] == "某员工"
    assert phone.json()["value"] == "13912340000"
    assert _reveal(client, world.admin.headers, emp["person_id"],
                   "id_number").json()["value"] == id_number(61)
    # The registry kept the person's own identity.
    session.refresh(person)
    assert rt.vault.read(person, "name_enc") == "陈静" and person.name_masked == "陈*"
    # An official over the enterprise's area (a government role) reads the registry.
    official = _reveal(client, world.official.headers, emp["person_id"], "name")
    assert official.status_code == 200 and official.json()["value"] == "陈静"
    # Once the employee left, HR reveals nothing.
    left = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees/{emp['id']}/leave",
                       headers=world.admin.headers)
    assert left.status_code == 200, left.text
    after = _reveal(client, world.admin.headers, emp["person_id"], "name")
    assert after.status_code == 403 and "陈静" not in after.text


def test_a_first_writer_does_not_define_the_persons_identity(client, world, rt, session):
    # HR is the first to type this ID number; its name is only its claim.
    emp = _add(client, world, 62, "冒名", "13912340001")
    person = session.get(Person, uuid.UUID(emp["person_id"]))
    assert person.identity_proofed_at is None
    # Another employer types the same ID number with another name: nothing overwritten.
    other = client.post(f"/api/v1/enterprises/{world.other['id']}/employees",
                        headers=world.outsider.headers,
                        json={"name": "王芳", "id_number": id_number(62),
                              "phone": "13912340002",
                              "department_id": client.get(
                                  f"/api/v1/enterprises/{world.other['id']}/departments",
                                  headers=world.outsider.headers).json()["items"][0]["id"]})
    assert other.status_code == 201, other.text
    assert other.json()["name"] == "王*"
    assert _reveal(client, world.outsider.headers, emp["person_id"],
                   "name").json()["value"] == "王芳"
    assert _reveal(client, world.admin.headers, emp["person_id"],
                   "name").json()["value"] == "冒名"


def test_commute_passes_only_for_employees_who_linked_their_own_account(
        client, world):
    linked = _add(client, world, 63, "甲一", "13912340003")
    unlinked = _add(client, world, 64, "乙二", "13912340004")
    link_employee(client, world, linked, 63, "甲一")
    planned = (date.today() + timedelta(days=2)).isoformat()
    rid = client.post(f"/api/v1/enterprises/{world.ent['id']}/resumptions",
                      headers=world.admin.headers, json={
                          "planned_date": planned, "headcount": {world.depts["生产部"]: 2},
                          "measures": "每日两次测温，错峰用餐，车间每日消毒。",
                          "contact_name": "赵安全", "contact_phone": "13800138000"}).json()["id"]
    client.post(f"/api/v1/enterprises/resumptions/{rid}/approve", headers=world.official.headers)
    start = datetime.now(UTC) + timedelta(days=2.5)
    body = {"valid_from": start.isoformat(), "valid_until": (start + timedelta(days=5)).isoformat()}
    url = f"/api/v1/enterprises/{world.ent['id']}/commute-passes"
    refused = client.post(url, headers=world.admin.headers,
                          json={**body, "employee_ids": [linked["id"], unlinked["id"]]})
    assert refused.status_code == 422 and "employee_ids" in refused.json()["error"]["fields"]
    ok = client.post(url, headers=world.admin.headers,
                     json={**body, "employee_ids": [linked["id"]]})
    assert ok.status_code == 201 and ok.json()["created"] == 1
