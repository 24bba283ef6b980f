"""The TOTP second factor: set-up, logins with a code, replay, recovery codes, reset."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from passtrace.accounts.models import User
from passtrace.accounts.service import Principals
from passtrace.audit.models import AuditEntry
from passtrace.core import clock
from tests.accounts.second_factor_helpers import Clock, code_at, enrol
from tests.conftest import PASSWORD


@pytest.fixture
def frozen() -> Iterator[Clock]:
    yield Clock()
    clock.freeze(None)


def _token(client, username: str, code: str | None = None):  # type: ignore[no-untyped-def]
    body = {"username": username, "password": PASSWORD}
    if code is not None:
        body["code"] = code
    return client.post("/api/v1/auth/token", json=body, headers={"Accept-Language": "en"})


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_an_api_token_needs_the_code_and_each_code_works_once(
        client, session, rt, make_persona, frozen):
    official = make_persona("official", "area", "520102")
    secret, _ = enrol(session, rt, official.principal, frozen.now)
    name = official.user.username
    missing = _token(client, name)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "second_factor_required"
    assert _token(client, name, "000000").status_code in (401,)
    # The code used to confirm the set-up is spent already.
    assert _token(client, name, code_at(secret, frozen.now)).status_code == 401
    frozen.tick()
    code = code_at(secret, frozen.now)
    first = _token(client, name, f" {code[:3]} {code[3:]} ")  # spaces as the app groups it
    assert first.status_code == 200, first.text
    assert _token(client, name, code).status_code == 401  # replayed within its window
    frozen.tick()
    assert _token(client, name, code_at(secret, frozen.now)).status_code == 200
    failed = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "login.failed", AuditEntry.resource_id == str(official.user.id)))
    assert any(e.detail.get("second_factor") for e in failed)


def test_the_secret_is_stored_encrypted(session, rt, make_persona, frozen):
    official = make_persona("official", "area", "520102")
    secret, _ = enrol(session, rt, official.principal, frozen.now)
    user = session.get(User, official.user.id)
    plain = secret.replace(" ", "")
    assert plain.encode() not in user.totp_secret
    assert rt.vault.read(user, "totp_secret") == plain


def test_a_recovery_code_works_once(client, session, rt, make_persona, frozen):
    official = make_persona("official", "area", "520102")
    _, codes = enrol(session, rt, official.principal, frozen.now)
    assert len(codes) == 10 and len(set(codes)) == 10
    name = official.user.username
    assert _token(client, name, codes[0].lower()).status_code == 200
    assert _token(client, name, codes[0]).status_code == 401
    assert _token(client, name, codes[1]).status_code == 200
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "user.recovery_code_use")) is not None


def test_wrong_codes_are_throttled_like_passwords(client, session, rt, make_persona, frozen,
                                                   monkeypatch):
    from passtrace.accounts import throttle

    monkeypatch.setattr(throttle, "BASE_DELAY", 600.0)  # longer than the clock moves here
    official = make_persona("official", "area", "520102")
    secret, _ = enrol(session, rt, official.principal, frozen.now)
    free = rt.settings.login_max_failures
    answers = [_token(client, official.user.username, "123456").status_code
               for _ in range(free + 1)]
    assert answers[:free] == [401] * free and answers[free] == 429, answers
    frozen.tick()
    slowed = _token(client, official.user.username, code_at(secret, frozen.now))
    assert slowed.status_code == 429  # even the right code waits for the backoff


def test_the_web_login_is_not_a_login_until_the_code_is_checked(
        client, session, rt, make_persona, frozen):
    official = make_persona("official", "area", "520102")
    secret, _ = enrol(session, rt, official.principal, frozen.now)
    resp = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                       "username": official.user.username,
                                       "password": PASSWORD, "next": "/admin/users"},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login/code")
    assert "pt_session" not in client.cookies
    # The pending login cookie is not a session, whatever a client does with it.
    pending = client.cookies.get("pt_pending")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {pending}"}
                      ).status_code == 401
    csrf = _csrf(client, "/login/code")
    wrong = client.post("/login/code", data={"csrf_token": csrf, "code": "000000"},
                        headers={"Accept-Language": "en"}, follow_redirects=False)
    assert wrong.status_code == 401 and "code is not right" in wrong.text
    frozen.tick()
    ok = client.post("/login/code", data={"csrf_token": csrf, "next": "/passes/review",
                                          "code": code_at(secret, frozen.now)},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/passes/review"
    assert client.get("/api/v1/me").json()["username"] == official.user.username
    # The pending login is spent: the code page sends you back to the password.
    client.cookies.set("pt_pending", pending)
    again = client.get("/login/code", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/login"


def _enforce(rt, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Make the deployment require the second factor (as prod does)."""
    monkeypatch.setattr(rt.settings, "second_factor_required", True)
    monkeypatch.setattr(rt, "principals", Principals(second_factor_enforced=True))


def test_where_required_an_official_holds_no_role_until_set_up(
        client, session, rt, make_persona, frozen, monkeypatch):
    official = make_persona("official", "area", "520102")  # logged in before it applied
    resident = make_persona("public")
    _enforce(rt, monkeypatch)
    assert client.get("/api/v1/me", headers=official.headers).json()["roles"] == []
    assert client.get("/api/v1/me", headers=resident.headers).json()["roles"] != []
    refused = _token(client, official.user.username)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "second_factor_setup"
    login = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                        "username": official.user.username,
                                        "password": PASSWORD}, follow_redirects=False)
    assert login.headers["location"] == "/account/second-factor"
    page = client.get("/account/second-factor", headers={"Accept-Language": "en"})
    assert "Your role needs a second factor" in page.text
    secret = re.search(r'id="second-factor-secret">([A-Z2-7 ]+)<', page.text).group(1)
    assert "<svg" in page.text
    bad = client.post("/account/second-factor", headers={"Accept-Language": "en"},
                      data={"csrf_token": _csrf(client, "/account/second-factor"),
                            "code": "12345"})
    assert bad.status_code == 422 and "code is not right" in bad.text
    done = client.post("/account/second-factor",
                       data={"csrf_token": _csrf(client, "/account/second-factor"),
                             "code": code_at(secret, frozen.now)})
    assert done.status_code == 200 and 'id="recovery-codes"' in done.text
    assert client.get("/api/v1/me").json()["roles"] == [
        {"role": "official", "scope_type": "area", "scope_value": "520102"}]
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "user.second_factor_enable")) is not None


def test_an_admin_resets_a_lost_second_factor_and_it_is_audited(
        client, session, rt, make_persona, frozen):
    admin, official = make_persona("admin"), make_persona("official", "area", "520102")
    enrol(session, rt, official.principal, frozen.now)
    other = make_persona("official", "area", "520102")
    denied = client.post(f"/api/v1/admin/users/{official.user.id}/reset-second-factor",
                         headers=other.headers)
    assert denied.status_code == 403
    resp = client.post(f"/api/v1/admin/users/{official.user.id}/reset-second-factor",
                       headers=admin.headers)
    assert resp.status_code == 200 and resp.json()["second_factor"] is False
    assert client.get("/api/v1/me", headers=official.headers).status_code == 401  # logins end
    assert _token(client, official.user.username).status_code == 200  # no code asked now
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "user.second_factor_reset"))
    assert entry is not None and entry.actor_user_id == admin.user.id
