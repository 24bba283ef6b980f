"""Logins: tokens, browser sessions with CSRF, rate limiting, logout."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD


def test_a_token_works_until_logout(client, make_persona):
    persona = make_persona("official", "area", "520102")
    me = client.get("/api/v1/me", headers=persona.headers)
    assert me.status_code == 200
    assert me.json()["roles"] == [{"role": "official", "scope_type": "area",
                                   "scope_value": "520102"}]
    assert client.post("/api/v1/auth/logout", headers=persona.headers).status_code == 204
    assert client.get("/api/v1/me", headers=persona.headers).status_code == 401


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, make_persona):
    persona = make_persona("public")
    bad_pw = client.post("/api/v1/auth/token", json={"username": persona.user.username,
                                                     "password": "nope-nope"})
    no_user = client.post("/api/v1/auth/token", json={"username": "nobody-here",
                                                      "password": "nope-nope"})
    assert bad_pw.status_code == no_user.status_code == 401
    assert bad_pw.json()["error"]["message"] == no_user.json()["error"]["message"]


def test_logins_are_rate_limited_per_user(client, make_persona, monkeypatch):
    from passtrace.accounts import throttle
    monkeypatch.setattr(throttle, "BASE_DELAY", 30.0)  # longer than any slow test step
    persona = make_persona("public")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": persona.user.username,
                                                "password": "wrong-wrong"})
    resp = client.post("/api/v1/auth/token", json={"username": persona.user.username,
                                                   "password": PASSWORD})
    # Even the right password waits out the backoff (no hashing while it runs).
    assert resp.status_code == 429 and resp.headers["Retry-After"]


def _login_page(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf, "next": "/passes/mine"},
                       follow_redirects=False)


def test_the_login_page_starts_a_session_and_redirects(client, make_persona):
    persona = make_persona("public")
    resp = _login_page(client, persona.user.username)
    assert resp.status_code == 303 and resp.headers["location"] == "/passes/mine"
    assert client.get("/passes/mine").status_code == 200


def test_a_login_form_without_its_csrf_token_is_refused(client, make_persona):
    persona = make_persona("public")
    client.get("/login")
    resp = client.post("/login", data={"username": persona.user.username, "password": PASSWORD,
                                       "csrf_token": "forged"})
    assert resp.status_code == 403


def test_cookie_sessions_need_the_csrf_token_for_writes(client, make_persona):
    persona = make_persona("public")
    _login_page(client, persona.user.username)
    page = client.get("/passes/apply")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    forged = client.post("/api/v1/passes", json={"purpose": "commute"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
    ok = client.post("/api/v1/passes", json={"purpose": "commute"},
                     headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 422  # got past CSRF to validation


def test_pages_redirect_anonymous_visitors_to_login(client):
    resp = client.get("/passes/mine", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/passes/mine"


def test_next_cannot_point_off_site(client, make_persona):
    persona = make_persona("public")
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    resp = client.post("/login", data={"username": persona.user.username, "password": PASSWORD,
                                       "csrf_token": csrf, "next": "//evil.example/"},
                       follow_redirects=False)
    assert resp.headers["location"] == "/"


def test_one_users_failures_do_not_lock_out_colleagues_behind_the_same_address(
        client, make_persona):
    mistyper, colleague = make_persona("public"), make_persona("public")
    for _ in range(6):
        client.post("/api/v1/auth/token", json={"username": mistyper.user.username,
                                                "password": "wrong-wrong"})
    resp = client.post("/api/v1/auth/token", json={"username": colleague.user.username,
                                                   "password": PASSWORD})
    assert resp.status_code == 200
