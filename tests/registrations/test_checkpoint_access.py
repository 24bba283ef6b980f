"""Who may use the checkpoint endpoints: the site's staff, its officials, nobody else."""

from __future__ import annotations

import pytest

from tests.registrations.conftest import SITE, reg_body


def test_heartbeat_records_the_queue_for_the_sites_staff_only(client, checkpoint, make_persona):
    body = {"site": SITE, "device_key": "phone-9", "pending": 12}
    assert client.post("/api/v1/checkpoint/heartbeat", json=body,
                       headers=checkpoint.staff.headers).status_code == 204
    stats = client.get(f"/api/v1/sites/{SITE}/stats", headers=checkpoint.official.headers)
    assert {"device_key": "phone-9", "pending": 12}.items() <= stats.json()[
        "unsynced_devices"][0].items()
    bad = client.post("/api/v1/checkpoint/heartbeat", json=body | {"pending": -1},
                      headers=checkpoint.staff.headers)
    assert bad.status_code == 422
    other_site = make_persona("checkpoint_staff", "site", "CP-ELSEWHERE")
    assert client.post("/api/v1/checkpoint/heartbeat", json=body,
                       headers=other_site.headers).status_code == 404
    assert client.post("/api/v1/checkpoint/heartbeat", json=body,
                       headers=checkpoint.resident.headers).status_code == 403


def test_reason_messages_are_translated_for_a_logged_in_user(client, checkpoint):
    zh = client.get("/api/v1/checkpoint/reasons", headers=checkpoint.staff.headers)
    assert zh.json()["fever"] == "体温达到发热标准：请复测并上报。"
    en = client.get("/api/v1/checkpoint/reasons",
                    headers=checkpoint.staff.headers | {"Accept-Language": "en"})
    assert en.json()["fever"].startswith("Temperature at or above")
    assert client.get("/api/v1/checkpoint/reasons").status_code == 401


def test_devices_are_enrolled_by_officials_over_the_site_only(client, checkpoint,
                                                              make_persona):
    path = f"/api/v1/sites/{SITE}/devices"
    assert client.post(path, json={"name": "测温门", "lane": "9"},
                       headers=checkpoint.official.headers).status_code == 422
    assert client.post(path, json={"name": "", "lane": "1"},
                       headers=checkpoint.official.headers).status_code == 422
    outsider = make_persona("official", "area", "520103")
    assert client.post(path, json={"name": "测温门", "lane": "1"},
                       headers=outsider.headers).status_code == 404
    assert client.post(path, json={"name": "测温门", "lane": "1"},
                       headers=checkpoint.staff.headers).status_code == 403


def test_staff_of_another_site_see_nothing_of_this_one(client, checkpoint, make_persona):
    denied = client.post("/api/v1/registrations",
                         json=reg_body(token=checkpoint.pass_["token"], temperature=38.5),
                         headers=checkpoint.staff.headers).json()
    other = make_persona("checkpoint_staff", "site", "CP-ELSEWHERE")
    for method, path, body in (
            ("GET", f"/api/v1/registrations/{denied['id']}", None),
            ("POST", f"/api/v1/registrations/{denied['id']}/override", {"reason": "复测正常"}),
            ("GET", f"/api/v1/sites/{SITE}/stats", None),
            ("GET", f"/api/v1/sites/{SITE}/lanes/1/reading", None),
            ("GET", f"/api/v1/sites/{SITE}", None)):
        resp = client.request(method, path, json=body, headers=other.headers)
        assert resp.status_code == 404, (method, path, resp.status_code)
    # The override was refused: the registration is still a denial.
    again = client.get(f"/api/v1/registrations/{denied['id']}", headers=checkpoint.staff.headers)
    assert again.json()["decision"] == "deny"
    assert client.post(f"/api/v1/registrations/{denied['id']}/override", json={"reason": ""},
                       headers=checkpoint.staff.headers).status_code == 422


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_stats_day_out_of_range_is_a_clear_error(client, checkpoint, day):
    headers = {**checkpoint.official.headers, "Accept-Language": "en"}
    resp = client.get(f"/api/v1/sites/{SITE}/stats", params={"day": day}, headers=headers)
    assert resp.status_code == 422, resp.text  # 0001-01-01 was a 500
    assert "between 2000-01-01 and 2099-12-31" in resp.json()["error"]["fields"]["day"]
    page = client.get(f"/sites/{SITE}", params={"day": day}, headers=headers)
    assert page.status_code == 422
