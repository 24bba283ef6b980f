"""The pass application page keeps what was typed and explains mistakes in the user's
language (zh_CN by default), through the cookie session and its CSRF field as a browser."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD


def _browser_login(client, username: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf_token": csrf, "next": "/passes/apply"})
    form = client.get("/passes/apply")
    return re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)


FORM = {"purpose": "commute", "reason": "每天去厂里上班", "valid_from": "2026-12-03T08:00",
        "valid_until": "明天", "areas": ["520102006"], "plate": "贵A12345",
        "companions": "两个"}


def test_a_bad_application_comes_back_with_the_typed_values_and_chinese_messages(
        client, make_persona):
    resident = make_persona("public")
    csrf = _browser_login(client, resident.user.username)
    resp = client.post("/passes/apply", data={**FORM, "csrf_token": csrf})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("text/html")
    assert "请输入日期和时间。" in resp.text  # valid_until
    assert "请输入整数。" in resp.text  # companions
    assert "Input should be" not in resp.text and "Enter a" not in resp.text
    for typed in ("每天去厂里上班", "贵A12345", 'value="明天"', 'value="两个"'):
        assert typed in resp.text
    assert client.get("/api/v1/passes/mine", headers=resident.headers).json()["items"] == []


def test_the_form_still_needs_its_csrf_token(client, make_persona):
    resident = make_persona("public")
    _browser_login(client, resident.user.username)
    resp = client.post("/passes/apply", data={**FORM, "csrf_token": "forged"})
    assert resp.status_code == 403


def test_a_window_the_service_refuses_keeps_the_typed_values(client, make_persona):
    resident = make_persona("public")
    csrf = _browser_login(client, resident.user.username)
    resp = client.post("/passes/apply", data={**FORM, "valid_until": "2026-12-02T08:00",
                                              "companions": "1", "csrf_token": csrf})
    assert resp.status_code == 422
    assert 'value="2026-12-02T08:00"' in resp.text and "贵A12345" in resp.text
    assert 'class="field-error"' in resp.text
