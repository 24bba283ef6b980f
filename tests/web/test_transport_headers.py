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
