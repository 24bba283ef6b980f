"""Three personas: the holder, a colleague with the same role, an outsider official."""

from __future__ import annotations

import pytest

from tests.passes.helpers import apply


@pytest.fixture
def cast(client, make_persona):  # type: ignore[no-untyped-def]
    holder = make_persona("public", name="张三")
    colleague = make_persona("public", name="李四")
    official = make_persona("official", "area", "520102")  # Nanming district
    outsider = make_persona("official", "area", "520103")  # Yunyan district
    city = make_persona("official", "area", "520100")  # all of Guiyang
    p = apply(client, holder.headers, areas=["520102006"])
    return {"holder": holder, "colleague": colleague, "official": official,
            "outsider": outsider, "city": city, "pass": p}


def test_the_holder_sees_their_pass(client, cast):
    resp = client.get(f"/api/v1/passes/{cast['pass']['id']}", headers=cast["holder"].headers)
    assert resp.status_code == 200


def test_a_colleague_resident_gets_not_found(client, cast):
    resp = client.get(f"/api/v1/passes/{cast['pass']['id']}", headers=cast["colleague"].headers)
    assert resp.status_code == 404
    assert client.get("/api/v1/passes/mine", headers=cast["colleague"].headers
                      ).json()["items"] == []


def test_an_outsider_official_cannot_see_or_decide(client, cast):
    pid = cast["pass"]["id"]
    headers = cast["outsider"].headers
    assert client.get(f"/api/v1/passes/{pid}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/passes/{pid}/approve", json={}, headers=headers
                       ).status_code == 404
    queue = client.get("/api/v1/passes/review", headers=headers).json()["items"]
    assert pid not in [p["id"] for p in queue]


def test_officials_in_jurisdiction_see_it_in_their_queue(client, cast):
    pid = cast["pass"]["id"]
    for who in ("official", "city"):
        queue = client.get("/api/v1/passes/review", headers=cast[who].headers).json()["items"]
        assert pid in [p["id"] for p in queue], who


def test_a_pass_spanning_two_districts_needs_an_official_over_both(client, make_persona, cast):
    p = apply(client, cast["holder"].headers, areas=["520102006", "520103003"])
    # A district official covers only part of it: not in their queue, not theirs to decide.
    assert client.post(f"/api/v1/passes/{p['id']}/approve", json={},
                       headers=cast["official"].headers).status_code == 404
    assert client.post(f"/api/v1/passes/{p['id']}/approve", json={},
                       headers=cast["city"].headers).status_code == 200


def test_a_resident_cannot_use_the_review_queue(client, cast):
    resp = client.get("/api/v1/passes/review", headers=cast["colleague"].headers)
    assert resp.status_code == 403


def test_a_colleague_cannot_revoke_or_fetch_the_qr(client, cast):
    pid = cast["pass"]["id"]
    client.post(f"/api/v1/passes/{pid}/approve", json={}, headers=cast["official"].headers)
    headers = cast["colleague"].headers
    assert client.post(f"/api/v1/passes/{pid}/revoke", json={"reason": "捣乱"},
                       headers=headers).status_code == 404
    assert client.get(f"/api/v1/passes/{pid}/qr.png", headers=headers).status_code == 404


def test_staff_roles_without_pass_rights_cannot_apply(client, make_persona):
    staff = make_persona("checkpoint_staff", "site", "CP-1")
    resp = client.post("/api/v1/passes", json={}, headers=staff.headers)
    assert resp.status_code == 403


def test_anonymous_requests_are_refused(client, cast):
    assert client.get(f"/api/v1/passes/{cast['pass']['id']}").status_code == 401
    assert client.get("/api/v1/passes/mine").status_code == 401
    # ...but the offline-verification material is public.
    assert client.get("/api/v1/passes/trust-list").status_code == 200
    assert client.get("/api/v1/passes/revocations").status_code == 200
