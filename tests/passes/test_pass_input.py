"""Bad applications get clear, translated errors and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from passtrace.passes.models import Pass
from tests.passes.helpers import apply_body


def count(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Pass))


@pytest.mark.parametrize(("overrides", "field"), [
    ({"purpose": "tourism"}, "purpose"),
    ({"areas": []}, "areas"),
    ({"areas": ["999999"]}, "areas"),
    ({"plate": "ABC123"}, "plate"),
    ({"companions": 12}, "companions"),
    ({"valid_from": "tomorrow"}, "valid_from"),
    ({"reason": "x" * 501}, "reason"),
    ({"unknown": 1}, "unknown"),
    ({"sites": ["bad site!"]}, "sites"),
])
def test_it_names_the_bad_field(client, make_persona, session, overrides, field):
    resident = make_persona("public")
    before = count(session)
    resp = client.post("/api/v1/passes", json=apply_body(**overrides), headers=resident.headers)
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert field in error["fields"], error
    assert error["message"]
    assert count(session) == before


def test_end_before_start_is_refused(client, make_persona):
    resident = make_persona("public")
    start = datetime.now(UTC)
    resp = client.post("/api/v1/passes", headers=resident.headers, json=apply_body(
        valid_from=start.isoformat(), valid_until=(start - timedelta(hours=1)).isoformat()))
    assert resp.status_code == 422
    assert "valid_until" in resp.json()["error"]["fields"]


def test_too_long_a_window_is_refused_with_the_limit(client, make_persona):
    resident = make_persona("public")
    start = datetime.now(UTC)
    resp = client.post("/api/v1/passes", headers=resident.headers, json=apply_body(
        valid_from=start.isoformat(), valid_until=(start + timedelta(days=60)).isoformat()))
    assert resp.status_code == 422
    assert "30" in resp.json()["error"]["fields"]["valid_until"]


def test_errors_speak_chinese_by_default_and_english_on_request(client, make_persona):
    resident = make_persona("public")
    body = apply_body(areas=[])
    zh = client.post("/api/v1/passes", json=body, headers=resident.headers).json()
    en = client.post("/api/v1/passes", json=body,
                     headers={**resident.headers, "Accept-Language": "en-US,en;q=0.9"}).json()
    assert en["error"]["fields"]["areas"] == "Choose at least one area the pass is for."
    assert zh["error"]["fields"]["areas"] != en["error"]["fields"]["areas"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh["error"]["fields"]["areas"])


@pytest.mark.parametrize("body", ["not json", "[]", '{"purpose": 5}', "null"])
def test_malformed_bodies_never_give_a_server_error(client, make_persona, body):
    resident = make_persona("public")
    resp = client.post("/api/v1/passes", content=body,
                       headers={**resident.headers, "Content-Type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid"


def test_a_bad_pass_id_is_a_clean_422(client, make_persona):
    resident = make_persona("public")
    assert client.get("/api/v1/passes/not-a-uuid", headers=resident.headers).status_code == 422
    assert client.get("/api/v1/passes/review?cursor=zz", headers=make_persona(
        "official", "area", "520102").headers).status_code == 422


def test_an_unknown_area_is_named_in_the_message(client, make_persona):
    resident = make_persona("public")
    resp = client.post("/api/v1/passes", json=apply_body(areas=["520102006", "999999"]),
                       headers=resident.headers)
    assert resp.status_code == 422
    assert "999999" in resp.json()["error"]["message"]
    assert resp.json()["error"]["code"] == "invalid"
