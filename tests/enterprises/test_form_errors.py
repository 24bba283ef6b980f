"""Enterprise forms keep what was typed and explain mistakes in Chinese beside the fields."""

from __future__ import annotations

from tests.enterprises.conftest import credit_code


def test_a_bad_registration_comes_back_with_the_typed_values(client, world):
    code = credit_code("91520102MA6J5GQY5")
    resp = client.post("/enterprises/new", headers=world.official.headers, data={
        "credit_code": code, "name": "贵州新厂有限公司", "area_code": "520102006",
        "address": "花果园大街 9 号", "report_deadline": "十点"})
    assert resp.status_code == 422
    assert "请按“时：分”输入时间。" in resp.text and "Input should be" not in resp.text
    for typed in ("贵州新厂有限公司", "花果园大街 9 号", 'value="十点"', code):
        assert typed in resp.text


def test_a_taken_credit_code_is_a_409_with_the_typed_values(client, world):
    resp = client.post("/enterprises/new", headers=world.official.headers, data={
        "credit_code": world.ent["credit_code"], "name": "重名公司", "area_code": "520102006",
        "address": "", "report_deadline": "09:00"})
    assert resp.status_code == 409
    assert f"统一社会信用代码为 {world.ent['credit_code']} 的企业已登记。" in resp.text
    assert "重名公司" in resp.text and 'value="09:00"' in resp.text


def test_an_employee_without_a_department_comes_back_with_the_typed_values(client, world):
    resp = client.post(f"/enterprises/{world.ent['id']}/employees/new",
                       headers=world.admin.headers,
                       data={"name": "陈静", "id_number": "520102198805120011",
                             "phone": "13912340000", "department_id": "",
                             "employee_no": "E9001"})
    assert resp.status_code == 422
    assert "请选择部门。" in resp.text
    assert 'value="陈静"' in resp.text and 'value="E9001"' in resp.text
