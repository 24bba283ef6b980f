"""Bad input to the compound API, as its own manager: a clear 4xx, never a 500, nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from passtrace.audit.models import AuditEntry
from passtrace.communities.compounds.models import Building, Resident
from tests.communities.conftest import CODE

BAD_JSON = [
    ("put", "/rules", {"max_out_per_household": "two"}),
    ("put", "/rules", {"window_days": 0}),
    ("put", "/rules", {"curfew_start": "7pm", "curfew_end": "06:00"}),
    ("put", "/rules", {"visitor_approval": "sometimes"}),
    ("put", "/rules", {"max_out_minutes": 5}),
    ("post", "/buildings", {"name": "", "units": ["1"]}),
    ("post", "/buildings", {"name": "5", "units": []}),
    ("post", "/buildings", {"name": "x" * 40, "units": ["1"]}),
    ("post", "/residents", {"building": "1", "unit": "1", "room": "101",
                            "id_number": "520102199001011230", "name": "甲"}),
    ("post", "/residents", {"building": "9", "unit": "1", "room": "101",
                            "id_number": "110101199003077578", "name": "甲"}),
    ("post", "/residents", {"building": "1", "unit": "7", "room": "101",
                            "id_number": "110101199003077578", "name": "甲"}),
    ("post", "/residents", {"building": "1", "unit": "1", "room": "101",
                            "id_number": "110101199003077578", "name": "甲",
                            "phone": "12345"}),
    ("post", "/residents", {"building": "1", "unit": "1", "room": "101",
                            "id_number": "110101199003077578", "name": "甲",
                            "role": "landlord"}),
    ("post", "/residents", {"building": "1", "unit": "1", "room": "\x00",
                            "id_number": "110101199003077578", "name": "甲"}),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_JSON)
def test_bad_json_is_refused_and_changes_nothing(client, session, compound, method, path,
                                                 body):
    def state():
        return (session.scalar(select(func.count()).select_from(Resident)),
                session.scalar(select(func.count()).select_from(Building)),
                session.scalar(select(func.count()).select_from(AuditEntry)))

    before = state()
    resp = getattr(client, method)(f"/api/v1/communities/{CODE}{path}", json=body,
                                   headers=compound.manager.headers)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"]["message"]
    assert state() == before


@pytest.mark.parametrize("query", ["cursor=not-a-cursor", "limit=0", "limit=100000",
                                   "building=" + "x" * 100,
                                   # a well-formed cursor of another list (a name, not an id)
                                   "cursor=W1sicyIsIngiXV0"])
def test_bad_household_queries(client, compound, query):
    resp = client.get(f"/api/v1/communities/{CODE}/households?{query}",
                      headers=compound.manager.headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("query", ["day=2026-13-01", "day=yesterday", "overdue=maybe"])
def test_bad_list_queries(client, compound, query):
    path = "/in-out" if query.startswith("day") else "/out"
    resp = client.get(f"/api/v1/communities/{CODE}{path}?{query}",
                      headers=compound.manager.headers)
    assert resp.status_code == 422, resp.text


@pytest.mark.parametrize("content", [b"\x00\x01\x02garbage", b"PK\x03\x04notreallyazip",
                                     "楼栋,单元\n1,1\n".encode("gbk"), b"\xff\xfe\xfd"])
def test_unreadable_sheets_are_refused(client, compound, content):
    resp = client.post(f"/api/v1/communities/{CODE}/import", headers=compound.manager.headers,
                       files={"file": ("x.xlsx", content, "application/octet-stream")})
    assert resp.status_code == 422, resp.text


def test_unknown_compound_and_resident(client, compound):
    h = compound.manager.headers
    assert client.get("/api/v1/communities/999999999999", headers=h).status_code == 404
    assert client.get("/api/v1/communities/abc", headers=h).status_code == 404
    resp = client.post(f"/api/v1/communities/{CODE}/residents/"
                       "01900000-0000-7000-8000-000000000000/remove",
                       json={"reason_code": "moved_out", "reason": "搬走了的"}, headers=h)
    assert resp.status_code == 404
    resp = client.post(f"/api/v1/communities/{CODE}/residents/{compound.resident_ids[0]}/remove",
                       json={"reason": ""}, headers=h)
    assert resp.status_code == 422
    resp = client.get(f"/api/v1/communities/{CODE}/households/"
                      "01900000-0000-7000-8000-000000000000", headers=h)
    assert resp.status_code == 404


def test_a_duplicate_resident_and_a_compound_twice(client, compound):
    resp = client.post(f"/api/v1/communities/{CODE}/residents", json={
        "building": "2", "unit": "1", "room": "201", "id_number": compound.id_numbers[0],
        "name": "张三"}, headers=compound.manager.headers)
    assert resp.status_code == 409, resp.text
    resp = client.post("/api/v1/communities", json={"code": CODE, "name": "又一个"},
                       headers=compound.official.headers)
    assert resp.status_code == 409
    resp = client.post("/api/v1/communities", json={"code": "520103001001", "name": "外区"},
                       headers=compound.official.headers)
    assert resp.status_code == 403


def test_control_characters_in_a_compounds_name(client, compound):
    resp = client.post("/api/v1/communities", json={"code": "520102006009",
                                                     "name": "小区\x00"},
                       headers=compound.official.headers)
    assert resp.status_code == 422


def test_a_percent_sign_in_a_building_name_is_text(client, compound):
    resp = client.post(f"/api/v1/communities/{CODE}/residents", json={
        "building": "9%", "unit": "1%s", "room": "%(x)s", "id_number": "110101199003077578",
        "name": "甲"}, headers=compound.manager.headers)
    assert resp.status_code == 422, resp.text
    assert "9%" in resp.json()["error"]["fields"]["building"]


@pytest.mark.parametrize(("q", "found"), [("测试", 1), ("520102006001", 1), ("测试路", 1),
                                          ("%", 0), ("_", 0), ("\\", 0), ("别的小区", 0),
                                          ("\x00", 1), ("测试\x00", 1)])
def test_searching_compounds(client, compound, q, found):
    resp = client.get("/api/v1/communities", params={"q": q},
                      headers=compound.official.headers)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["items"]) == found


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2100-01-01"])
def test_an_in_out_day_out_of_range_is_a_clear_error(client, compound, day):
    resp = client.get(f"/api/v1/communities/{CODE}/in-out", params={"day": day},
                      headers={**compound.manager.headers, "Accept-Language": "en"})
    assert resp.status_code == 422, resp.text  # 9999-12-31 was a 500
    assert "between 2000-01-01 and 2099-12-31" in resp.json()["error"]["fields"]["day"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_overview_page_with_a_day_out_of_range_shows_today(client, compound, day):
    page = client.get(f"/communities/{CODE}", params={"day": day},
                      headers={**compound.manager.headers, "Accept-Language": "en"})
    assert page.status_code == 200, page.text[:300]  # 0001-01-01 was a 500
    assert "Enter a date." in page.text
