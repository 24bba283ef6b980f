"""The /admin/users page and the password page, driven as a browser would (forms + CSRF)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from passtrace.accounts.models import AuthSession, User
from passtrace.app import create_app
from passtrace.enterprises.models import Department, Enterprise
from tests.conftest import PASSWORD

NEW = "blue-kettle-morning-7"


def _browser(rt, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    browser = TestClient(create_app(runtime=rt))
    form = browser.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    resp = browser.post("/login", data={"username": username, "password": password,
                                        "csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return browser, resp.headers["location"]


def _csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def test_an_admin_creates_a_user_grants_and_takes_back_a_role_and_deactivates(
        rt, session, make_persona):
    admin = make_persona("admin")
    browser, _ = _browser(rt, admin.user.username)
    page = browser.get("/admin/users")
    assert page.status_code == 200 and "viewport" in page.text
    csrf = _csrf(page.text)
    weak = browser.post("/admin/users", data={"csrf_token": csrf, "username": "nm-gate-9",
                                              "display_name": "九号岗", "password": "123"})
    assert weak.status_code == 422 and "10" in weak.text and 'value="nm-gate-9"' in weak.text
    made = browser.post("/admin/users", data={"csrf_token": csrf, "username": "nm-gate-9",
                                              "display_name": "九号岗", "password": NEW},
                        follow_redirects=False)
    assert made.status_code == 303
    user = session.scalar(select(User).where(User.username == "nm-gate-9"))
    assert user is not None
    detail = f"/admin/users/{user.id}"
    assert browser.post(f"{detail}/roles", data={
        "csrf_token": csrf, "role": "checkpoint_staff", "scope_type": "site",
        "scope_value": "NM-9"}, follow_redirects=False).status_code == 303
    # The role by its name, the scope by its kind and code (no role codes on the page).
    granted = '卡口或门岗值守人员 · 卡口或门岗（站点编号） <span translate="no">NM-9</span>'
    assert granted in browser.get(detail).text
    found = browser.get("/admin/users", params={"q": "九号", "role": "checkpoint_staff"})
    assert "nm-gate-9" in found.text
    assert browser.post(f"{detail}/roles/revoke", data={
        "csrf_token": csrf, "role": "checkpoint_staff", "scope_type": "site",
        "scope_value": "NM-9"}, follow_redirects=False).status_code == 303
    assert granted not in browser.get(detail).text
    assert browser.post(f"{detail}/active", data={"csrf_token": csrf, "active": "false"},
                        follow_redirects=False).status_code == 303
    session.refresh(user)
    assert user.is_active is False


def test_a_reset_password_is_shown_once_and_must_be_changed_at_next_login(
        rt, session, make_persona):
    admin, official = make_persona("admin"), make_persona("official", "area", "520102")
    browser, _ = _browser(rt, admin.user.username)
    csrf = _csrf(browser.get(f"/admin/users/{official.user.id}").text)
    reset = browser.post(f"/admin/users/{official.user.id}/reset-password",
                         data={"csrf_token": csrf})
    temporary = re.search(r'id="temporary-password">([^<]+)<', reset.text).group(1)
    assert temporary not in browser.get(f"/admin/users/{official.user.id}").text  # once
    them, landing = _browser(rt, official.user.username, temporary)
    assert landing == "/account/password"
    form = them.get("/account/password")
    changed = them.post("/account/password", data={
        "csrf_token": _csrf(form.text), "current_password": temporary, "password": NEW})
    assert changed.status_code == 200
    assert them.get("/api/v1/me").json()["roles"][0]["role"] == "official"


def test_the_password_page_ends_other_logins_and_refuses_a_common_password(
        rt, session, make_persona):
    persona = make_persona("public")
    browser, _ = _browser(rt, persona.user.username)
    csrf = _csrf(browser.get("/account/password").text)
    common = browser.post("/account/password", data={
        "csrf_token": csrf, "current_password": PASSWORD, "password": "iloveyou123"})
    assert common.status_code == 422 and "常见" in common.text
    ok = browser.post("/account/password", data={
        "csrf_token": csrf, "current_password": PASSWORD, "password": NEW})
    assert ok.status_code == 200
    assert browser.get("/api/v1/me").status_code == 200  # this login stays
    assert client_get_me(rt, persona.headers) == 401  # the persona's bearer token ended
    live = session.scalars(select(AuthSession).where(AuthSession.user_id == persona.user.id,
                                                     AuthSession.revoked_at.is_(None))).all()
    assert len(live) == 1


def client_get_me(rt, headers) -> int:  # type: ignore[no-untyped-def]
    with TestClient(create_app(runtime=rt)) as c:
        return c.get("/api/v1/me", headers=headers).status_code


def test_the_admin_page_is_for_admins_only(rt, make_persona):
    official = make_persona("official", "area", "520102")
    browser, _ = _browser(rt, official.user.username)
    assert browser.get("/admin/users").status_code == 403


def test_a_department_heads_scope_is_named_not_shown_as_its_id(rt, session, make_persona):
    ent = Enterprise(credit_code="91520102MA6J5GQX4T", name="贵州黔味食品有限公司",
                     area_code="520102006")
    session.add(ent)
    session.flush()
    dept = Department(enterprise_id=ent.id, name="生产部")
    session.add(dept)
    session.flush()
    head = make_persona("department_head", "department", str(dept.id), name="生产部负责人")
    browser, _ = _browser(rt, make_persona("admin").user.username)
    listed = browser.get("/admin/users", params={"q": "生产部负责人"}).text
    detail = browser.get(f"/admin/users/{head.user.id}").text
    for page in (listed, detail):
        assert "部门负责人 · 部门 贵州黔味食品有限公司 生产部" in page
        # Only the take-back form still carries the id, in a hidden field.
        assert str(dept.id) not in re.sub(r'value="[^"]*"', "", page)
