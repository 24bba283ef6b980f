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


def test_the_pass_text_is_shown_only_to_its_holder(client, cast):
    """A pass text is a bearer credential: the official who approved it (or any other
    reader) sees the pass, never its QR, its print or its text."""
    pid = cast["pass"]["id"]
    client.post(f"/api/v1/passes/{pid}/approve", json={}, headers=cast["official"].headers)
    official = cast["official"].headers
    assert client.get(f"/api/v1/passes/{pid}", headers=official).json()["token"] is None
    for path in (f"/api/v1/passes/{pid}/qr.png", f"/api/v1/passes/{pid}/qr.svg",
                 f"/passes/{pid}/print"):
        assert client.get(path, headers=official).status_code == 404, path
    page = client.get(f"/passes/{pid}", headers=official)
    assert page.status_code == 200 and 'id="pass-qr"' not in page.text
    assert "PT1:" not in page.text
    holder = cast["holder"].headers
    assert client.get(f"/api/v1/passes/{pid}/qr.png", headers=holder).status_code == 200
    assert 'id="pass-qr"' in client.get(f"/passes/{pid}", headers=holder).text
    assert client.get(f"/passes/{pid}/print", headers=holder).status_code == 200
