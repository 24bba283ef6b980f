"""Password change and reset, the password policy, deactivation, taking back roles."""

from __future__ import annotations

import re

from sqlalchemy import select

from passtrace.accounts.models import User
from passtrace.audit.models import AuditEntry
from tests.conftest import PASSWORD

NEW = "blue-kettle-morning-7"


def _token(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _bearer(client, username: str, password: str = PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = _token(client, username, password)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_changing_a_password_needs_the_current_one_and_ends_other_logins(
        client, make_persona):
    persona = make_persona("public")
    other = _bearer(client, persona.user.username)
    wrong = client.post("/api/v1/me/password", headers=persona.headers,
                        json={"current_password": "not-it-at-all", "password": NEW})
    assert wrong.status_code == 422 and "current_password" in wrong.json()["error"]["fields"]
    ok = client.post("/api/v1/me/password", headers=persona.headers,
                     json={"current_password": PASSWORD, "password": NEW})
    assert ok.status_code == 204
    assert client.get("/api/v1/me", headers=persona.headers).status_code == 200  # this one
    assert client.get("/api/v1/me", headers=other).status_code == 401  # the other one
    assert _token(client, persona.user.username).status_code == 401
    assert _token(client, persona.user.username, NEW).status_code == 200


def test_weak_new_passwords_are_refused_with_the_reason(client, make_persona):
    persona = make_persona("public")
    for weak, why in (("short-1", "10"), ("password1234", "常见"),
                      (f"x{persona.user.username}x!", "用户名")):
        resp = client.post("/api/v1/me/password", headers=persona.headers,
                           json={"current_password": PASSWORD, "password": weak})
        assert resp.status_code == 422, weak
        assert why in resp.json()["error"]["fields"]["password"], resp.json()
    assert _token(client, persona.user.username).status_code == 200  # nothing changed


def test_the_common_password_check_uses_the_bundled_list(client, make_persona):
    admin = make_persona("admin")
    resp = client.post("/api/v1/admin/users", headers=admin.headers,
                       json={"username": "new-guard", "display_name": "门岗",
                             "password": "qwertyuiop"})
    assert resp.status_code == 422
    assert "常见" in resp.json()["error"]["fields"]["password"]


def test_an_admin_reset_gives_a_one_time_password_that_must_be_changed(
        client, session, make_persona):
    admin, official = make_persona("admin"), make_persona("official", "area", "520102")
    resp = client.post(f"/api/v1/admin/users/{official.user.id}/reset-password",
                       headers=admin.headers)
    assert resp.status_code == 200
    temporary = resp.json()["temporary_password"]
    assert client.get("/api/v1/me", headers=official.headers).status_code == 401  # logins end
    assert _token(client, official.user.username).status_code == 401  # old password gone
    headers = _bearer(client, official.user.username, temporary)
    assert client.get("/api/v1/me", headers=headers).json()["roles"] == []  # no powers yet
    assert client.post("/api/v1/me/password", headers=headers,
                       json={"current_password": temporary, "password": NEW}
                       ).status_code == 204
    roles = client.get("/api/v1/me", headers=headers).json()["roles"]
    assert roles == [{"role": "official", "scope_type": "area", "scope_value": "520102"}]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
    assert entry is not None and temporary not in str(entry.detail)


def test_only_admins_manage_users(client, make_persona):
    official, other = make_persona("official", "area", "520102"), make_persona("public")
    for path in ("reset-password", "deactivate"):
        resp = client.post(f"/api/v1/admin/users/{other.user.id}/{path}",
                           headers=official.headers)
        assert resp.status_code == 403
    assert client.get("/api/v1/admin/users", headers=official.headers).status_code == 403


def test_deactivation_stops_a_bearer_token_and_a_cookie_session_at_once(
        client, rt, make_persona):
    from fastapi.testclient import TestClient

    from passtrace.app import create_app
    admin, staff = make_persona("admin"), make_persona("checkpoint_staff", "site", "S1")
    with TestClient(create_app(runtime=rt)) as browser:
        form = browser.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        browser.post("/login", data={"username": staff.user.username, "password": PASSWORD,
                                     "csrf_token": csrf})
        assert browser.get("/api/v1/me").status_code == 200
        assert client.get("/api/v1/me", headers=staff.headers).status_code == 200
        resp = client.post(f"/api/v1/admin/users/{staff.user.id}/deactivate",
                           headers=admin.headers)
        assert resp.status_code == 200 and resp.json()["is_active"] is False
        assert client.get("/api/v1/me", headers=staff.headers).status_code == 401
        assert browser.get("/api/v1/me").status_code == 401
    assert _token(client, staff.user.username).status_code == 401
    client.post(f"/api/v1/admin/users/{staff.user.id}/activate", headers=admin.headers)
    assert _token(client, staff.user.username).status_code == 200


def test_taking_back_a_role_takes_effect_on_the_next_request(client, session, make_persona):
    admin = make_persona("admin")
    official = make_persona("official", "area", "520102")
    assert client.get("/api/v1/me", headers=official.headers).json()["roles"]
    wrong = client.post(f"/api/v1/admin/users/{official.user.id}/roles/revoke",
                        headers=admin.headers,
                        json={"role": "official", "scope_type": "area",
                              "scope_value": "520103"})
    assert wrong.status_code == 404
    resp = client.post(f"/api/v1/admin/users/{official.user.id}/roles/revoke",
                       headers=admin.headers,
                       json={"role": "official", "scope_type": "area", "scope_value": "520102"})
    assert resp.status_code == 200 and resp.json()["roles"] == []
    assert client.get("/api/v1/me", headers=official.headers).json()["roles"] == []
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "user.revoke_role",
                                                   AuditEntry.resource_id ==
                                                   str(official.user.id))) is not None


def test_admins_create_grant_and_find_users(client, session, make_persona):
    admin = make_persona("admin")
    created = client.post("/api/v1/admin/users", headers=admin.headers,
                          json={"username": "nm-gate-3", "display_name": "南明三号岗",
                                "password": NEW})
    assert created.status_code == 201
    uid = created.json()["id"]
    granted = client.post(f"/api/v1/admin/users/{uid}/roles", headers=admin.headers,
                          json={"role": "checkpoint_staff", "scope_type": "site",
                                "scope_value": "NM-3"})
    assert granted.status_code == 200
    found = client.get("/api/v1/admin/users", headers=admin.headers, params={
        "q": "三号", "role": "checkpoint_staff", "scope": "NM"}).json()["items"]
    assert [u["username"] for u in found] == ["nm-gate-3"]
    officials = client.get("/api/v1/admin/users", headers=admin.headers,
                           params={"role": "official"}).json()["items"]
    assert "nm-gate-3" not in [u["username"] for u in officials]
    assert session.scalar(select(User).where(User.username == "nm-gate-3")) is not None
