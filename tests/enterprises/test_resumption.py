"""Resumption of work: apply, approve or return in area; then commute passes in bulk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.enterprises.conftest import add, link_employee

NAMES = {"E0051": "甲一", "E0052": "乙二", "E0053": "丙三", "E0054": "丁四"}


def emp_name(emp):  # type: ignore[no-untyped-def]
    return NAMES[emp["employee_no"]]


def _body(world, **over):  # type: ignore[no-untyped-def]
    body = {"planned_date": (date.today() + timedelta(days=2)).isoformat(),
            "headcount": {world.depts["生产部"]: 2, world.depts["销售部"]: 1},
            "measures": "每日两次测温，错峰用餐，车间每日消毒。",
            "contact_name": "赵安全", "contact_phone": "13800138000"}
    body.update(over)
    return body


def _apply(client, world, **over):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/resumptions",
                       json=_body(world, **over), headers=world.admin.headers)
    return resp


def _staff(client, world):  # type: ignore[no-untyped-def]
    return [add(client, world, "生产部", 51, "甲一"), add(client, world, "生产部", 52, "乙二"),
            add(client, world, "生产部", 53, "丙三"), add(client, world, "销售部", 54, "丁四")]


def test_apply_shows_a_masked_contact_and_refuses_bad_input(client, world):
    _staff(client, world)
    past = _apply(client, world, planned_date=(date.today() - timedelta(days=2)).isoformat())
    assert past.status_code == 422 and "planned_date" in past.json()["error"]["fields"]
    too_many = _apply(client, world, headcount={world.depts["销售部"]: 5})
    assert too_many.status_code == 422 and "headcount" in too_many.json()["error"]["fields"]
    bad_phone = _apply(client, world, contact_phone="123")
    assert "contact_phone" in bad_phone.json()["error"]["fields"]
    resp = _apply(client, world)
    assert resp.status_code == 201, resp.text
    r = resp.json()
    assert (r["status"], r["contact_name"], r["contact_phone"]) == ("pending", "赵**",
                                                                    "138****8000")
    assert r["headcount_total"] == 3
    assert _apply(client, world).status_code == 409  # one pending at a time


def test_an_in_area_official_approves_and_the_enterprise_resumes(client, world):
    _staff(client, world)
    rid = _apply(client, world).json()["id"]
    queue = client.get("/api/v1/enterprises/resumptions",
                       headers=world.official.headers).json()["items"]
    assert rid in [r["id"] for r in queue]
    far = client.get("/api/v1/enterprises/resumptions",
                     headers=world.far_official.headers).json()["items"]
    assert rid not in [r["id"] for r in far]
    assert client.post(f"/api/v1/enterprises/resumptions/{rid}/approve",
                       headers=world.far_official.headers).status_code == 404
    assert client.post(f"/api/v1/enterprises/resumptions/{rid}/approve",
                       headers=world.admin.headers).status_code == 403
    resp = client.post(f"/api/v1/enterprises/resumptions/{rid}/approve",
                       headers=world.official.headers)
    assert resp.status_code == 200 and resp.json()["status"] == "approved"
    ent = client.get(f"/api/v1/enterprises/{world.ent['id']}", headers=world.admin.headers)
    assert ent.json()["resumed_on"] == _body(world)["planned_date"]
    assert client.post(f"/api/v1/enterprises/resumptions/{rid}/approve",
                       headers=world.official.headers).status_code == 409


def test_returned_with_reasons_then_applied_again(client, world):
    _staff(client, world)
    rid = _apply(client, world).json()["id"]
    url = f"/api/v1/enterprises/resumptions/{rid}/return"
    assert client.post(url, json={"reasons": [" "]},
                       headers=world.official.headers).status_code == 422
    assert client.post(url, json={"reasons": ["缺少消毒记录"]},
                       headers=world.far_official.headers).status_code == 404
    resp = client.post(url, json={"reasons": ["缺少消毒记录", "联系人须为专职人员"]},
                       headers=world.official.headers)
    assert resp.status_code == 200
    assert resp.json()["decision_reasons"] == ["缺少消毒记录", "联系人须为专职人员"]
    mine = client.get(f"/api/v1/enterprises/{world.ent['id']}/resumptions",
                      headers=world.admin.headers).json()["items"]
    assert mine[0]["status"] == "returned"
    assert _apply(client, world).status_code == 201


def _window(days_from_now: float = 2.5, days: float = 7):  # type: ignore[no-untyped-def]
    start = datetime.now(UTC) + timedelta(days=days_from_now)
    return start.isoformat(), (start + timedelta(days=days)).isoformat()


def test_commute_passes_in_bulk_within_the_approved_headcount(client, world, make_persona):
    staff = _staff(client, world)
    for seq, emp in zip((51, 52, 53, 54), staff, strict=True):
        link_employee(client, world, emp, seq, emp_name(emp))
    url = f"/api/v1/enterprises/{world.ent['id']}/commute-passes"
    start, end = _window()
    ids = [s["id"] for s in staff[:2]]
    # Not before approval.
    assert client.post(url, json={"employee_ids": ids, "valid_from": start, "valid_until": end},
                       headers=world.admin.headers).status_code == 409
    rid = _apply(client, world).json()["id"]
    client.post(f"/api/v1/enterprises/resumptions/{rid}/approve", headers=world.official.headers)
    early_start, early_end = _window(days_from_now=0)
    early = client.post(url, json={"employee_ids": ids, "valid_from": early_start,
                                   "valid_until": early_end}, headers=world.admin.headers)
    assert early.status_code == 422 and "valid_from" in early.json()["error"]["fields"]
    resp = client.post(url, json={"employee_ids": ids, "valid_from": start, "valid_until": end},
                       headers=world.admin.headers)
    assert resp.status_code == 201, resp.text
    assert (resp.json()["created"], resp.json()["skipped"]) == (2, 0)
    # Signed and approved at once, for the enterprise's area, visible to the area official.
    pass_id = resp.json()["pass_ids"][0]
    p = client.get(f"/api/v1/passes/{pass_id}", headers=world.official.headers).json()
    assert (p["status"], p["purpose"]) == ("approved", "commute")
    assert [a["code"] for a in p["areas"]] == ["520102006"]
    # Signed, but the pass text is shown only to its holder, not to the official reading it.
    assert p["token"] is None
    # Asking again skips them; the third production worker exceeds the approved 2.
    again = client.post(url, json={"employee_ids": ids, "valid_from": start,
                                   "valid_until": end}, headers=world.admin.headers)
    assert (again.json()["created"], again.json()["skipped"]) == (0, 2)
    over = client.post(url, json={"employee_ids": [staff[2]["id"]], "valid_from": start,
                                  "valid_until": end}, headers=world.admin.headers)
    assert over.status_code == 422
    # Department heads and outsiders cannot request passes.
    body = {"employee_ids": [staff[3]["id"]], "valid_from": start, "valid_until": end}
    assert client.post(url, json=body, headers=world.head.headers).status_code == 403
    assert client.post(url, json=body, headers=world.outsider.headers).status_code == 404
    assert client.post(url, json=body, headers=world.admin.headers).json()["created"] == 1
