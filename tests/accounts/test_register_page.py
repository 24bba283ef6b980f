"""The sign-up page: field errors in place, then to linking the ID number."""

from __future__ import annotations

import re

from passtrace.demo import demo_id_number


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/register").text).group(1)


def test_a_bad_id_number_is_shown_next_to_its_field_and_nothing_is_created(client):
    resp = client.post("/register", headers={"Accept-Language": "en"}, data={
        "csrf_token": _csrf(client), "username": "wangwu88", "password": "long-enough-1",
        "name": "王五", "id_number": "520102199001011230", "phone": "13885012345"})
    assert resp.status_code == 422
    assert "check digit" in resp.text
    assert 'value="wangwu88"' in resp.text  # what was typed is kept (except secrets)
    assert "520102199001011230" not in resp.text
    login = client.post("/api/v1/auth/token", json={"username": "wangwu88",
                                                    "password": "long-enough-1"})
    assert login.status_code == 401


def test_signing_up_without_a_code_logs_in_and_opens_the_linking_page(client):
    resp = client.post("/register", follow_redirects=False, data={
        "csrf_token": _csrf(client), "username": "wangwu89", "password": "long-enough-1",
        "name": "王五", "id_number": demo_id_number("520103", "19880808", "456"),
        "phone": ""})
    assert resp.status_code == 303 and resp.headers["location"] == "/me/bind"
    assert client.get("/me/bind").status_code == 200
