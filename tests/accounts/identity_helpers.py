"""A compound with a resident its manager registered, for the sign-up and binding tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from passtrace.demo import demo_id_number

CODE = "520102006001"
PASSWORD = "long-enough-1"


@dataclass
class Office:
    official: Any
    manager: Any
    resident_id: str
    person_id: str
    id_number: str


def compound_with_resident(client: TestClient, make_persona: Any, seq: int = 501,
                           name: str = "陈静", phone: str = "13885019999") -> Office:
    """A compound whose manager registered one resident (no account yet)."""
    official = make_persona("official", "area", "520102")
    resp = client.post("/api/v1/communities", json={"code": CODE, "name": "测试小区",
                                                     "address": "南明区测试路1号"},
                       headers=official.headers)
    assert resp.status_code == 201, resp.text
    manager = make_persona("community_manager", "community", CODE)
    resp = client.post(f"/api/v1/communities/{CODE}/buildings",
                       json={"name": "1", "units": ["1"]}, headers=manager.headers)
    assert resp.status_code == 201, resp.text
    id_number = demo_id_number("520102", "19870203", f"{seq:03d}")
    resp = client.post(f"/api/v1/communities/{CODE}/residents", json={
        "building": "1", "unit": "1", "room": "101", "id_number": id_number, "name": name,
        "phone": phone, "role": "owner"}, headers=manager.headers)
    assert resp.status_code == 201, resp.text
    return Office(official, manager, resp.json()["id"], resp.json()["person_id"], id_number)


def sign_up(client: TestClient, username: str, id_number: str, name: str,
            code: str | None = None, phone: str | None = None) -> Any:
    """POST the sign-up API."""
    body: dict[str, Any] = {"username": username, "password": PASSWORD, "name": name,
                            "id_number": id_number}
    if phone:
        body["phone"] = phone
    if code:
        body["claim_code"] = code
    return client.post("/api/v1/accounts/register", json=body,
                       headers={"Accept-Language": "en"})


def login(client: TestClient, username: str) -> dict[str, str]:
    """A bearer header for a user."""
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def resident_code(client: TestClient, office: Office) -> str:
    """The manager hands the resident a claim code."""
    resp = client.post(f"/api/v1/communities/{CODE}/residents/{office.resident_id}/claim-code",
                       headers=office.manager.headers)
    assert resp.status_code == 201, resp.text
    return resp.json()["code"]  # type: ignore[no-any-return]
