"""Removing a resident is coercive: a reason from the list, the person told, appealable."""

from __future__ import annotations

from tests.communities.conftest import CODE


def _remove(client, compound, i, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/communities/{CODE}/residents/{compound.resident_ids[i]}/remove",
                       json=body, headers=compound.manager.headers)


def test_removal_without_a_reason_code_is_refused_and_keeps_the_resident(client, compound):
    resp = _remove(client, compound, 2, reason="搬离本小区")
    assert resp.status_code == 422
    assert "reason_code" in resp.json()["error"]["fields"]
    mine = client.get("/api/v1/me/households", headers=compound.residents[2].headers).json()
    assert mine["items"], "the resident is still registered"


def test_the_removed_resident_is_told_and_can_appeal_the_household_pass(client, compound):
    passes = client.get("/api/v1/passes/mine", headers=compound.residents[2].headers).json()
    household = [p for p in passes["items"] if p["purpose"] == "household"]
    assert _remove(client, compound, 2, reason_code="moved_out",
                   reason="搬离本小区").status_code == 204
    notices = client.get("/notices", headers=compound.residents[2].headers).text
    assert "您的通行证已被吊销：搬离本小区。" in notices
    if household:
        pid = household[0]["id"]
        page = client.get(f"/passes/{pid}", headers=compound.residents[2].headers).text
        assert "已搬离小区" in page and 'id="appeal-form"' in page
        filed = client.post(f"/api/v1/passes/{pid}/appeal",
                            json={"text": "我并没有搬走，仍住在这里"},
                            headers=compound.residents[2].headers)
        assert filed.status_code == 201


def test_the_removal_page_asks_for_the_reason_from_the_list(client, compound):
    rid = compound.resident_ids[1]
    h = compound.manager.headers
    page = client.get(f"/communities/{CODE}/residents/{rid}/remove", headers=h).text
    assert 'name="reason_code"' in page
    refused = client.post(f"/communities/{CODE}/residents/{rid}/remove", headers=h,
                          data={"reason": "已搬离本小区", "reason_code": ""})
    assert refused.status_code == 422 and "请从列表中选择原因。" in refused.text
