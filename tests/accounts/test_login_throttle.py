"""The login throttle: backoff per (name, address), shared through the database, no lockout."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from passtrace.accounts import throttle
from passtrace.accounts.models import LoginFailure
from passtrace.app import create_app
from passtrace.audit.models import AuditEntry
from passtrace.core.clock import utcnow
from passtrace.core.db import make_sessionmaker
from tests.conftest import PASSWORD


def _token(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_fifty_made_up_names_from_one_address_do_not_stop_a_real_user_there(
        client, make_persona):
    colleague = make_persona("official", "area", "520102")
    for i in range(55):
        assert _token(client, f"ghost-{i}", "guess-guess").status_code == 401
    assert _token(client, colleague.user.username).status_code == 200


def test_a_hot_address_makes_each_failing_name_wait_after_its_first_failure(
        client, make_persona, monkeypatch):
    monkeypatch.setattr(throttle, "BASE_DELAY", 30.0)  # longer than any slow test step
    persona = make_persona("public")
    for i in range(50):
        _token(client, f"ghost-{i}", "guess-guess")
    assert _token(client, persona.user.username, "wrong-wrong").status_code == 401
    slowed = _token(client, persona.user.username)
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1


def test_a_targeted_user_is_slowed_not_locked_out_and_can_log_in_elsewhere(
        client, rt, make_persona, monkeypatch):
    monkeypatch.setattr(throttle, "BASE_DELAY", 30.0)  # longer than any slow test step
    target = make_persona("official", "area", "520102")
    for _ in range(5):
        assert _token(client, target.user.username, "wrong-wrong").status_code == 401
    slowed = _token(client, target.user.username)
    assert slowed.status_code == 429
    assert 25 <= int(slowed.headers["Retry-After"]) <= 30
    assert slowed.headers["Retry-After"] in slowed.json()["error"]["message"]  # how long
    with TestClient(create_app(runtime=rt), client=("198.51.100.7", 40000)) as elsewhere:
        assert _token(elsewhere, target.user.username).status_code == 200


def test_the_wait_doubles_and_is_capped():
    assert [throttle.delay_for(n, 5) for n in (4, 5, 6, 7)] == [0, 1, 2, 4]
    assert throttle.delay_for(500, 5) == throttle.MAX_DELAY


def test_once_the_wait_is_over_the_right_password_works_and_clears_the_count(
        client, session, make_persona):
    persona = make_persona("public")
    for _ in range(6):  # the sixth is refused without counting: it came too soon
        _token(client, persona.user.username, "wrong-wrong")
    keys = throttle.keys_for(persona.user.username, "testclient")
    # Move the last failure back past its wait, as if the user had waited.
    row = session.scalar(select(LoginFailure).where(LoginFailure.key_hash == keys.pair))
    assert row is not None and row.failures == 5
    row.last_failure_at = utcnow() - timedelta(seconds=10)
    session.flush()
    assert _token(client, persona.user.username).status_code == 200
    assert session.scalar(select(LoginFailure).where(LoginFailure.key_hash == keys.pair)) is None


def test_failed_logins_are_audited_without_the_password(client, session, make_persona):
    persona = make_persona("public")
    _token(client, persona.user.username, "secret-typo-123")
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "login.failed",
        AuditEntry.resource_id == str(persona.user.id))).all()
    assert len(entries) == 1
    assert "secret-typo-123" not in str(entries[0].detail)


def test_the_login_page_says_how_long_to_wait_in_chinese(client, session, make_persona):
    import re
    persona = make_persona("public")
    for _ in range(5):
        _token(client, persona.user.username, "wrong-wrong")
    # Five more failures' worth, so the wait (32 s) outlasts a slow test machine.
    keys = throttle.keys_for(persona.user.username, "testclient")
    row = session.scalar(select(LoginFailure).where(LoginFailure.key_hash == keys.pair))
    row.failures, row.last_failure_at = 10, utcnow()
    session.flush()
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    resp = client.post("/login", data={"username": persona.user.username,
                                       "password": PASSWORD, "csrf_token": csrf},
                       follow_redirects=False)
    assert resp.status_code == 429 and 25 <= int(resp.headers["Retry-After"]) <= 32
    assert "秒" in resp.text


def test_the_login_page_counts_its_failures_too(client, make_persona, monkeypatch):
    import re
    monkeypatch.setattr(throttle, "BASE_DELAY", 30.0)  # longer than any slow test step
    persona = make_persona("public")
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    for _ in range(5):
        resp = client.post("/login", data={"username": persona.user.username,
                                           "password": "wrong-wrong", "csrf_token": csrf})
        assert resp.status_code == 401
    assert _token(client, persona.user.username).status_code == 429


@pytest.mark.parametrize("workers", [6])
def test_concurrent_failures_are_all_counted(db_engine, workers):
    factory = make_sessionmaker(db_engine)  # real commits, outside the test transaction
    key = uuid.uuid4().hex
    barrier = threading.Barrier(workers)
    errors: list[str] = []

    def fail_once() -> None:
        barrier.wait()
        for _ in range(50):
            with factory() as s:
                try:
                    throttle.bump(session=s, key_hash=key, now=utcnow())
                    s.commit()
                    return
                except Exception as exc:  # SQLite busy: a real client would retry
                    s.rollback()
                    if "locked" not in str(exc):
                        errors.append(repr(exc))
                        return
        errors.append("gave up")

    threads = [threading.Thread(target=fail_once) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not errors, errors
        with factory() as s:
            assert s.scalar(select(LoginFailure.failures)
                            .where(LoginFailure.key_hash == key)) == workers
    finally:
        with factory() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.key_hash == key))
            s.commit()
