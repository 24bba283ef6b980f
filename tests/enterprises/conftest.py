"""A small world: two enterprises in Guiyang, their admins, a department head, officials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from passtrace.core.validators import credit_code_check_char
from passtrace.demo import demo_id_number


def credit_code(body17: str) -> str:
    """Complete 17 characters with their GB 32100 check character."""
    return body17 + credit_code_check_char(body17)


def id_number(seq: int, birth: str = "19880512") -> str:
    """A checksum-valid ID number, different for every seq."""
    return demo_id_number("520102", birth, f"{seq:03d}")


def csv_bytes(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    """Make a CSV staff list (Chinese headers by default)."""
    head = header or ["部门", "姓名", "身份证号", "手机号", "工号"]
    return "\n".join(",".join(r) for r in [head, *rows]).encode("utf-8")


@dataclass
class World:
    ent: dict[str, Any]
    other: dict[str, Any]
    depts: dict[str, str]
    admin: Any
    head: Any
    outsider: Any
    official: Any
    far_official: Any


@pytest.fixture
def world(client, make_persona) -> World:  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102")  # Nanming district
    far_official = make_persona("official", "area", "520103")  # Yunyan district
    code = credit_code("91520102MA6J5GQX4")
    other_code = credit_code("91520103MA7K8L9M1")
    resp = client.post("/api/v1/enterprises", headers=official.headers, json={
        "credit_code": code, "name": "贵州黔味食品有限公司", "area_code": "520102006",
        "address": "花果园大街 1 号", "report_deadline": "09:30"})
    assert resp.status_code == 201, resp.text
    ent = resp.json()
    other = client.post("/api/v1/enterprises", headers=far_official.headers, json={
        "credit_code": other_code, "name": "贵阳云岩物流有限公司",
        "area_code": "520103003"}).json()
    admin = make_persona("enterprise_admin", "enterprise", code)
    outsider = make_persona("enterprise_admin", "enterprise", other_code)
    depts = {}
    for name in ("生产部", "销售部"):
        r = client.post(f"/api/v1/enterprises/{ent['id']}/departments", json={"name": name},
                        headers=admin.headers)
        assert r.status_code == 201, r.text
        depts[name] = r.json()["id"]
    client.post(f"/api/v1/enterprises/{other['id']}/departments", json={"name": "仓储部"},
                headers=outsider.headers)
    head = make_persona("department_head", "department", depts["销售部"])
    return World(ent, other, depts, admin, head, outsider, official, far_official)


def add(client, world: World, dept: str, seq: int, name: str = "张伟") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Add one employee through the API as the enterprise admin."""
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees",
                       headers=world.admin.headers,
                       json={"name": name, "id_number": id_number(seq), "phone": "13912345678",
                             "department_id": world.depts[dept], "employee_no": f"E{seq:04d}"})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def sign_up_employee(client, world: World, seq: int, name: str = "张伟",  # type: ignore[no-untyped-def]
                     employee: dict[str, Any] | None = None) -> dict[str, str]:
    """The employee collects a claim code from HR and signs up with it; returns a bearer
    header. `employee` defaults to the one added with this seq."""
    if employee is None:
        listed = client.get(f"/api/v1/enterprises/{world.ent['id']}/employees?limit=200",
                            headers=world.admin.headers).json()
        rows = listed["items"] if isinstance(listed, dict) else listed
        employee = next(e for e in rows if e["employee_no"] == f"E{seq:04d}")
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees/{employee['id']}"
                       "/claim-code", headers=world.admin.headers)
    assert resp.status_code == 201, resp.text
    username = f"staff{seq}"
    resp = client.post("/api/v1/accounts/register", json={
        "username": username, "password": "long-enough-1", "name": name,
        "id_number": id_number(seq), "phone": "13912345678", "claim_code": resp.json()["code"]})
    assert resp.status_code == 201 and resp.json()["person_id"], resp.text
    token = client.post("/api/v1/auth/token", json={"username": username,
                                                    "password": "long-enough-1"}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def link_employee(client, world: World, employee: dict[str, Any], seq: int,  # type: ignore[no-untyped-def]
                  name: str = "张伟") -> dict[str, str]:
    """Sign the employee up with a claim code and accept an invite: a linked account."""
    headers = sign_up_employee(client, world, seq, name, employee)
    invite = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees/{employee['id']}"
                         "/invite", headers=world.admin.headers).json()
    resp = client.post("/api/v1/enterprises/invites/accept", json={"token": invite["token"]},
                       headers=headers)
    assert resp.status_code == 200, resp.text
    return headers
