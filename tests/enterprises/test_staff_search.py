"""The staff list page: search by name, ID tail, phone tail; filters; keyset pages."""

from __future__ import annotations

import re
from typing import Any

from tests.enterprises.conftest import id_number

ROW = re.compile(r'data-employee-id="([0-9a-f-]+)"')


def _add(client, world, dept: str, seq: int, name: str, phone: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees",
                       headers=world.admin.headers,
                       json={"name": name, "id_number": id_number(seq), "phone": phone,
                             "department_id": world.depts[dept], "employee_no": f"E{seq:04d}"})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def _shown(client, world, who, **params: str) -> set[str]:  # type: ignore[no-untyped-def]
    resp = client.get(f"/enterprises/{world.ent['id']}", params=params, headers=who.headers)
    assert resp.status_code == 200, resp.text
    return set(ROW.findall(resp.text))


def _staff(client, world) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    return {"gao": _add(client, world, "销售部", 811, "高建国", "13800001111"),
            "gaoming": _add(client, world, "生产部", 812, "高明", "13800002222"),
            "li": _add(client, world, "生产部", 813, "李红", "13800003333")}


def test_hr_finds_staff_by_name_id_tail_phone_tail_and_number(client, world):
    s = _staff(client, world)
    assert _shown(client, world, world.admin, q="高建国") == {s["gao"]["id"]}
    assert _shown(client, world, world.admin, q="高") == {s["gao"]["id"], s["gaoming"]["id"]}
    assert _shown(client, world, world.admin, q=id_number(813)[-4:]) == {s["li"]["id"]}
    assert _shown(client, world, world.admin, q="２２２２") == {s["gaoming"]["id"]}  # full-width
    assert _shown(client, world, world.admin, q="E0811") == {s["gao"]["id"]}
    assert _shown(client, world, world.admin, q="高建军") == set()


def test_filters_by_department_and_status(client, world):
    s = _staff(client, world)
    sales = _shown(client, world, world.admin, department=world.depts["销售部"])
    assert sales == {s["gao"]["id"]}
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees/{s['li']['id']}/leave",
                       headers=world.admin.headers)
    assert resp.status_code == 200, resp.text
    assert s["li"]["id"] not in _shown(client, world, world.admin)
    assert _shown(client, world, world.admin, status="left") == {s["li"]["id"]}
    assert s["li"]["id"] in _shown(client, world, world.admin, status="all")
    # An unknown status in a hand-edited link falls back to the employed staff.
    assert s["li"]["id"] not in _shown(client, world, world.admin, status="gone")


def test_the_head_searches_only_their_department_and_officials_only_what_they_see(client, world):
    s = _staff(client, world)
    assert _shown(client, world, world.head, q="高") == {s["gao"]["id"]}
    assert _shown(client, world, world.head, q="李红") == set()
    # Officials read 高* and can find by family name, never test a full name.
    assert _shown(client, world, world.official, q="高") == {s["gao"]["id"], s["gaoming"]["id"]}
    assert _shown(client, world, world.official, q="高建国") == set()
    assert _shown(client, world, world.official, q=id_number(811)[-4:]) == {s["gao"]["id"]}
    far = client.get(f"/enterprises/{world.ent['id']}", params={"q": "高"},
                     headers=world.far_official.headers)
    assert far.status_code == 404


def test_it_pages_a_long_list_with_keyset_links(client, world):
    ids = {_add(client, world, "生产部", 820 + i, f"王{i}号", f"1390000{i:04d}")["id"]
           for i in range(55)}
    first = client.get(f"/enterprises/{world.ent['id']}", headers=world.admin.headers)
    page1 = set(ROW.findall(first.text))
    assert len(page1) == 50
    nxt = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert nxt is not None
    second = client.get(nxt.group(1).replace("&amp;", "&"), headers=world.admin.headers)
    page2 = set(ROW.findall(second.text))
    assert len(page2) == 5 and not page1 & page2 and page1 | page2 == ids
    assert 'rel="next"' not in second.text


def test_bad_search_text_is_a_message_not_an_error(client, world):
    _staff(client, world)
    resp = client.get(f"/enterprises/{world.ent['id']}", params={"q": "高" * 60},
                      headers=world.admin.headers)
    assert resp.status_code == 200
    assert 'id="filter-message"' in resp.text
    bad = client.get(f"/enterprises/{world.ent['id']}", params={"cursor": "not-a-cursor"},
                     headers=world.admin.headers)
    assert bad.status_code == 422
