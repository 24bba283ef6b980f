"""Revealing personal data needs the permission and a reason, and is always audited."""

from __future__ import annotations

import pytest

from tests.passes.helpers import apply


@pytest.fixture
def case(client, make_persona):  # type: ignore[no-untyped-def]
    holder = make_persona("public", name="张三")
    p = apply(client, holder.headers, areas=["520102006"])
    return holder, p


def reveal(client, persona, person_id, reason="核查通行证申请材料"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/people/{person_id}/reveal",
                       json={"field": "id_number", "purpose": "pass_review",
                             "reason": reason}, headers=persona.headers)


def test_an_official_in_jurisdiction_reveals_with_a_reason_and_the_person_sees_it(
        client, make_persona, case):
    holder, p = case
    official = make_persona("official", "area", "520102")
    resp = reveal(client, official, p["holder"]["person_id"])
    assert resp.status_code == 200
    value = resp.json()["value"]
    assert len(value) == 18 and value.endswith(p["holder"]["id_number"][-4:])
    log = client.get("/api/v1/me/access-log", headers=holder.headers).json()["items"]
    assert log[0]["action"] == "person.reveal"
    assert log[0]["actor"] == official.user.username
    assert log[0]["reason"] == "核查通行证申请材料"


def test_a_reason_is_required(client, make_persona, case):
    _, p = case
    official = make_persona("official", "area", "520102")
    resp = reveal(client, official, p["holder"]["person_id"], reason="  ")
    assert resp.status_code == 422


def test_an_outsider_official_and_a_colleague_cannot_reveal(client, make_persona, case):
    holder, p = case
    for persona in (make_persona("official", "area", "520103"), make_persona("public")):
        assert reveal(client, persona, p["holder"]["person_id"]).status_code == 403
    # Failed attempts reveal nothing and leave no 'viewed' entry for the person.
    log = client.get("/api/v1/me/access-log", headers=holder.headers).json()["items"]
    assert "person.reveal" not in [e["action"] for e in log]


def test_responses_never_carry_the_id_number_in_clear(client, make_persona, case):
    holder, p = case
    official = make_persona("official", "area", "520102")
    full = reveal(client, official, p["holder"]["person_id"]).json()["value"]
    for url, who in ((f"/api/v1/passes/{p['id']}", holder), ("/api/v1/passes/review", official),
                     ("/api/v1/me/person", holder), (f"/passes/{p['id']}", holder)):
        body = client.get(url, headers=who.headers).text
        assert full not in body, url


def test_every_state_change_is_audited(client, make_persona, case):
    holder, p = case
    official = make_persona("official", "area", "520102")
    client.post(f"/api/v1/passes/{p['id']}/approve", json={}, headers=official.headers)
    client.post(f"/api/v1/passes/{p['id']}/revoke",
                json={"reason_code": "other", "reason": "作废此通行证"},
                headers=official.headers)
    actions = [e["action"] for e in client.get("/api/v1/me/access-log",
                                               headers=holder.headers).json()["items"]]
    for expected in ("pass.apply", "pass.approve", "pass.revoke"):
        assert expected in actions


def test_an_officials_reads_of_a_pass_show_in_the_holders_access_log(client, make_persona, case):
    holder, p = case
    official = make_persona("official", "area", "520102")
    client.get("/api/v1/passes/review", headers=official.headers)
    client.get(f"/api/v1/passes/{p['id']}", headers=official.headers)
    client.get(f"/api/v1/passes/{p['id']}", headers=holder.headers)  # own reads: not logged
    views = [e for e in client.get("/api/v1/me/access-log",
                                   headers=holder.headers).json()["items"]
             if e["action"] == "pass.view"]
    assert [v["actor"] for v in views] == [official.user.username] * 2
