"""The three personas: the enterprise's admin, a department head, an outsider admin."""

from __future__ import annotations

from tests.enterprises.conftest import add, credit_code, id_number


def test_officials_register_enterprises_only_in_their_area(client, world):
    body = {"credit_code": credit_code("91520103MA1B2C3D4"), "name": "云岩贸易有限公司",
            "area_code": "520103003"}
    resp = client.post("/api/v1/enterprises", json=body, headers=world.official.headers)
    assert resp.status_code == 403
    assert client.post("/api/v1/enterprises", json=body,
                       headers=world.far_official.headers).status_code == 201


def test_registration_refuses_bad_codes_unknown_areas_and_duplicates(client, world):
    headers = world.official.headers
    bad = client.post("/api/v1/enterprises", headers=headers, json={
        "credit_code": "91520102MA6J5GQX4Z", "name": "某公司", "area_code": "520102006"})
    assert bad.status_code == 422
    assert "credit_code" in bad.json()["error"]["fields"]
    unknown = client.post("/api/v1/enterprises", headers=headers, json={
        "credit_code": credit_code("91520102MA0000001"), "name": "某公司",
        "area_code": "520102999"})
    assert unknown.status_code == 422 and "area_code" in unknown.json()["error"]["fields"]
    dup = client.post("/api/v1/enterprises", headers=headers, json={
        "credit_code": world.ent["credit_code"], "name": "重名公司", "area_code": "520102006"})
    assert dup.status_code == 409


def test_enterprise_admin_sees_only_their_enterprise(client, world):
    listed = client.get("/api/v1/enterprises", headers=world.admin.headers).json()["items"]
    assert [e["id"] for e in listed] == [world.ent["id"]]
    depts = client.get(f"/api/v1/enterprises/{world.ent['id']}/departments",
                       headers=world.admin.headers).json()["items"]
    assert {d["name"] for d in depts} == {"生产部", "销售部"}


def test_department_head_sees_only_their_department(client, world):
    add(client, world, "生产部", 1, "王芳")
    add(client, world, "销售部", 2, "李强")
    ent = world.ent["id"]
    headers = world.head.headers
    assert client.get(f"/api/v1/enterprises/{ent}", headers=headers).status_code == 200
    staff = client.get(f"/api/v1/enterprises/{ent}/employees", headers=headers).json()["items"]
    assert [s["name"] for s in staff] == ["李*"]
    depts = client.get(f"/api/v1/enterprises/{ent}/departments",
                       headers=headers).json()["items"]
    assert [d["name"] for d in depts] == ["销售部"]
    # Asking for the other department shows nobody; its employee is not found.
    other = client.get(f"/api/v1/enterprises/{ent}/employees",
                       params={"department": world.depts["生产部"]}, headers=headers)
    assert other.json()["items"] == []
    admin_view = client.get(f"/api/v1/enterprises/{ent}/employees",
                            headers=world.admin.headers).json()["items"]
    wang = next(s for s in admin_view if s["name"] == "王*")
    assert client.get(f"/api/v1/enterprises/{ent}/employees/{wang['id']}",
                      headers=headers).status_code == 404
    # Reading is all: no staff changes, no resumption.
    assert client.post(f"/api/v1/enterprises/{ent}/departments", json={"name": "新部门"},
                       headers=headers).status_code == 403
    assert client.get(f"/api/v1/enterprises/{ent}/resumptions",
                      headers=headers).status_code == 404
    assert [e["id"] for e in client.get("/api/v1/enterprises",
                                        headers=headers).json()["items"]] == [ent]


def test_an_outsider_admin_gets_not_found_for_everything(client, world):
    emp = add(client, world, "生产部", 3)
    ent = world.ent["id"]
    headers = world.outsider.headers
    dept = world.depts["生产部"]
    for path in (f"/{ent}", f"/{ent}/departments", f"/{ent}/employees",
                 f"/{ent}/employees/{emp['id']}", f"/{ent}/resumptions"):
        assert client.get(f"/api/v1/enterprises{path}", headers=headers).status_code == 404, path
    for path, body in ((f"/{ent}/departments", {"name": "x"}),
                       (f"/{ent}/employees/{emp['id']}/invite", None),
                       (f"/{ent}/employees/{emp['id']}/leave", None)):
        assert client.post(f"/api/v1/enterprises{path}", json=body,
                           headers=headers).status_code == 404, path
    assert client.patch(f"/api/v1/enterprises/{ent}/departments/{dept}", json={"name": "y"},
                        headers=headers).status_code == 404
    assert client.delete(f"/api/v1/enterprises/{ent}/departments/{dept}",
                         headers=headers).status_code == 404
    listed = client.get("/api/v1/enterprises", headers=headers).json()["items"]
    assert [e["id"] for e in listed] == [world.other["id"]]


def test_staff_list_is_masked_and_reveal_is_audited(client, world):
    emp = add(client, world, "生产部", 4, "欧阳娜娜")
    assert emp["name"] == "欧***"
    assert emp["id_number"].startswith("520102") and "*" in emp["id_number"]
    assert emp["phone"] == "139****5678"
    resp = client.post(f"/api/v1/people/{emp['person_id']}/reveal", headers=world.admin.headers,
                       json={"field": "name", "purpose": "identity_check",
                             "reason": "核对复工名单中的姓名"})
    assert resp.status_code == 200 and resp.json()["value"] == "欧阳娜娜"
    # The outsider admin may not reveal this employee.
    resp = client.post(f"/api/v1/people/{emp['person_id']}/reveal",
                       headers=world.outsider.headers,
                       json={"field": "name", "purpose": "other",
                             "reason": "看看而已吧，无正当理由"})
    assert resp.status_code == 403


def test_departments_rename_and_delete(client, world):
    ent, headers = world.ent["id"], world.admin.headers
    dept = world.depts["生产部"]
    assert client.post(f"/api/v1/enterprises/{ent}/departments", json={"name": "销售部"},
                       headers=headers).status_code == 409
    resp = client.patch(f"/api/v1/enterprises/{ent}/departments/{dept}",
                        json={"name": "生产一部"}, headers=headers)
    assert resp.status_code == 200 and resp.json()["name"] == "生产一部"
    add(client, world, "生产部", 5)
    assert client.delete(f"/api/v1/enterprises/{ent}/departments/{dept}",
                         headers=headers).status_code == 409
    empty = client.post(f"/api/v1/enterprises/{ent}/departments", json={"name": "临时部"},
                        headers=headers).json()
    assert client.delete(f"/api/v1/enterprises/{ent}/departments/{empty['id']}",
                         headers=headers).status_code == 204


def test_adding_the_same_person_twice_is_refused(client, world):
    add(client, world, "生产部", 6)
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees",
                       headers=world.admin.headers,
                       json={"name": "张伟", "id_number": id_number(6),
                             "department_id": world.depts["销售部"]})
    assert resp.status_code == 409
    assert "id_number" in resp.json()["error"]["fields"]
