"""A person deletes their own account: logins, sessions, roles and notices go; the
epidemiological records and the audit log stay; the account can no longer log in."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import AuthSession, RoleBinding, User
from passtrace.audit.models import AuditEntry
from passtrace.notices.models import Notice
from passtrace.registrations.models import Registration
from tests.conftest import PASSWORD
from tests.retention import helpers


def _count(session: Session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _notice(session: Session, user_id) -> None:  # type: ignore[no-untyped-def]
    session.add(Notice(user_id=user_id, kind="test", message="Hello",
                       dedupe_key=f"ret:{user_id}"))


def test_deleting_own_account_removes_the_login_and_keeps_the_records(
        client, session, make_persona):
    me = make_persona("public")
    person_id = me.user.person_id
    _notice(session, me.user.id)
    site = helpers.site(session)
    reg = helpers.registration(session, site.id, helpers.days_ago(1))
    session.commit()
    username = me.user.username

    wrong = client.post("/api/v1/me/delete-account", headers=me.headers,
                        json={"password": "not-it"})
    assert wrong.status_code == 403
    assert client.get("/api/v1/me", headers=me.headers).status_code == 200

    resp = client.post("/api/v1/me/delete-account", headers=me.headers,
                       json={"password": PASSWORD})
    assert resp.status_code == 204, resp.text
    session.expire_all()
    user = session.get(User, me.user.id)
    assert user is not None and user.person_id is None and not user.is_active
    assert username not in user.username and user.display_name == ""
    assert _count(session, AuthSession, AuthSession.user_id == me.user.id) == 0
    assert _count(session, RoleBinding, RoleBinding.user_id == me.user.id) == 0
    assert _count(session, Notice, Notice.user_id == me.user.id) == 0
    # The registration is an epidemiological record: kept until its period ends.
    assert session.get(Registration, reg.id) is not None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "account.delete",
                                                     AuditEntry.resource_id == str(me.user.id)))
    assert entry.one().subject_person_id == person_id
    # The old token and the old password no longer work.
    assert client.get("/api/v1/me", headers=me.headers).status_code == 401
    login = client.post("/api/v1/auth/token", json={"username": username,
                                                    "password": PASSWORD})
    assert login.status_code == 401


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_the_page_asks_for_the_password_then_deletes(client, session, make_persona):
    me = make_persona("public")
    resp = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                       "username": me.user.username, "password": PASSWORD},
                       follow_redirects=False)
    assert resp.status_code == 303
    page = client.get("/me/delete-account", headers={"Accept-Language": "zh-CN"})
    assert "删除我的账号" in page.text
    csrf = _csrf(client, "/me/delete-account")
    wrong = client.post("/me/delete-account", headers={"Accept-Language": "en"},
                        data={"csrf_token": csrf, "password": "nope"})
    assert wrong.status_code == 403 and "Nothing was deleted" in wrong.text
    session.expire_all()
    assert session.get(User, me.user.id).is_active  # type: ignore[union-attr]
    done = client.post("/me/delete-account", headers={"Accept-Language": "en"},
                       data={"csrf_token": csrf, "password": PASSWORD})
    assert done.status_code == 200 and 'id="delete-done"' in done.text
    session.expire_all()
    assert not session.get(User, me.user.id).is_active  # type: ignore[union-attr]
    again = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                        "username": me.user.username, "password": PASSWORD},
                        follow_redirects=False)
    assert again.status_code != 303


def test_two_deletions_racing_delete_and_audit_once(committed_rt, committed_client):
    from passtrace.retention import account_deletion
    from tests.concurrency import committed_persona, race

    me = committed_persona(committed_rt, committed_client, role="checkpoint_staff")

    def delete(session: Session) -> None:
        account_deletion.delete_own_account(session=session, rt=committed_rt,
                                            actor=me.principal, password=PASSWORD)

    outcomes = race(committed_rt, delete, delete)
    # The loser waits for the row lock and finds the account gone (PostgreSQL), or is
    # refused as a second writer (SQLite, "busy"): never a second deletion.
    assert sorted(outcomes) in (["NotFound", "ok"], ["busy", "ok"]), outcomes
    with committed_rt.sessions() as session:
        assert _count(session, AuditEntry, AuditEntry.action == "account.delete",
                      AuditEntry.resource_id == str(me.user_id)) == 1


def test_wrong_deletion_passwords_are_throttled_like_logins(client, make_persona, monkeypatch):
    from passtrace.accounts import throttle

    monkeypatch.setattr(throttle, "BASE_DELAY", 30.0)  # longer than any slow test step
    me = make_persona("public")
    free = client.app.state.runtime.settings.login_max_failures
    answers = [client.post("/api/v1/me/delete-account", headers=me.headers,
                           json={"password": f"guess-{i}"}).status_code
               for i in range(free + 1)]
    # The free wrong guesses are refused as wrong; then the pair must wait.
    assert answers == [403] * free + [429], answers
    slowed = client.post("/api/v1/me/delete-account", headers=me.headers,
                         json={"password": PASSWORD})
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    # The same counters as the login: guessing here slows logging in from here too.
    login = client.post("/api/v1/auth/token", json={"username": me.user.username,
                                                    "password": PASSWORD})
    assert login.status_code == 429
    assert client.get("/api/v1/me", headers=me.headers).status_code == 200  # not deleted
