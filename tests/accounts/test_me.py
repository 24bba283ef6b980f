"""The current user's own settings and record."""

from __future__ import annotations


def test_a_saved_language_wins_over_the_browser(client, make_persona):
    persona = make_persona("public")
    assert client.put("/api/v1/me/locale", json={"locale": "en"},
                      headers=persona.headers).status_code == 204
    resp = client.post("/api/v1/passes", json={}, headers={**persona.headers,
                                                           "Accept-Language": "zh-CN"})
    assert resp.json()["error"]["message"] == "Some fields are not valid."


def test_an_unknown_language_is_refused(client, make_persona):
    persona = make_persona("public")
    resp = client.put("/api/v1/me/locale", json={"locale": "fr"}, headers=persona.headers)
    assert resp.status_code == 422 and "locale" in resp.json()["error"]["fields"]


def test_residents_see_their_own_record_masked_and_staff_have_none(client, make_persona):
    resident = make_persona("public", name="张三")
    mine = client.get("/api/v1/me/person", headers=resident.headers).json()
    assert mine["name"] == "张*" and "*" in mine["id_number"] and "*" in mine["phone"]
    staff = make_persona("checkpoint_staff", "site", "CP-1")
    assert client.get("/api/v1/me/person", headers=staff.headers).status_code == 404
    assert client.get("/api/v1/me/person").status_code == 401


def test_the_revocation_list_refuses_a_negative_version(client):
    assert client.get("/api/v1/passes/revocations?since=-1").status_code == 422
    assert client.get("/api/v1/passes/revocations?since=abc").status_code == 422
