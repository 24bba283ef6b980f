"""What a browser or proxy may keep, and what production adds: no-store on personal data,
HSTS and Secure cookies, and API docs only for logged-in users."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from passtrace.app import create_app


@pytest.fixture
def prod_client(rt):
    rt.settings.env = "prod"
    with TestClient(create_app(runtime=rt), base_url="https://testserver") as c:
        yield c


def test_pages_and_api_answers_are_never_stored_but_static_files_may_be(client,
                                                                      make_persona):
    resident = make_persona("public")
    for path in ("/login", "/api/v1/me"):
        resp = client.get(path, headers=resident.headers)
        assert resp.headers["cache-control"] == "no-store", path
    assert client.get("/api/v1/nope").headers["cache-control"] == "no-store"  # errors too
    static = client.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get(
        "cache-control", "")


def test_production_adds_hsts_and_marks_every_cookie_secure(prod_client):
    resp = prod_client.get("/login")
    assert resp.headers["strict-transport-security"].startswith("max-age=")
    cookies = resp.headers.get_list("set-cookie")
    assert cookies and all("secure" in c.lower() for c in cookies)
    lang = prod_client.post("/lang", data={"locale": "en", "next": "/login"},
                            follow_redirects=False)
    assert all("secure" in c.lower() for c in lang.headers.get_list("set-cookie"))


def test_outside_production_there_is_no_hsts(client):
    assert "strict-transport-security" not in client.get("/login").headers


def test_production_api_docs_need_a_login(prod_client, make_persona):
    assert prod_client.get("/api/v1/openapi.json").status_code == 401
    assert prod_client.get("/api/v1/docs").status_code == 401
    # Any signed-in user (in prod an official needs a second factor for a token).
    official = make_persona("public")
    schema = prod_client.get("/api/v1/openapi.json", headers=official.headers)
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "PassTrace"
    docs = prod_client.get("/api/v1/docs", headers=official.headers)
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text


def test_elsewhere_the_api_docs_stay_public(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


# The checkpoint's check (POST /api/v1/registrations) is served ahead of the middleware
# stack (app.PassTraceApp): it must still answer as every other route does.
CHECK = "/api/v1/registrations"


def test_the_checkpoint_check_keeps_the_headers_language_and_limits(client, make_persona):
    refused = client.post(CHECK, json={}, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "请先登录。"
    assert refused.headers["cache-control"] == "no-store"
    assert refused.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
    assert client.post(CHECK, json={}, headers={"Accept-Language": "en"}).json()[
        "error"]["message"] == "Please log in."
    resident = make_persona("public")  # logged in, without the permission: nothing stored
    denied = client.post(CHECK, json={}, headers={**resident.headers, "Accept-Language": "en"})
    assert denied.status_code == 403 and denied.headers["cache-control"] == "no-store"
    big = client.post(CHECK, content=b" " * (2 * 1_048_576),
                      headers={"Content-Type": "application/json", "Accept-Language": "zh-CN"})
    assert big.status_code == 413 and big.json()["error"]["message"] == "上传的内容过大。"
    guard = make_persona("checkpoint_staff", "site", "CP-ANY")  # may check: reads the body
    chunked = client.post(CHECK, content=(b" " * 65536 for _ in range(40)),
                          headers={**guard.headers, "Content-Type": "application/json"})
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"
    assert client.get(CHECK).status_code == 405  # other methods: the usual stack


def test_the_checkpoint_check_gets_hsts_in_production(prod_client):
    resp = prod_client.post(CHECK, json={})
    assert resp.status_code == 401
    assert resp.headers["strict-transport-security"].startswith("max-age=")
