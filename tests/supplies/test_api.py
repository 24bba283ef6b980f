"""The supplies API: a warehouse receives, a checkpoint requests, the officer allocates,
the checkpoint receives; and the permission triple (allowed, out of scope, wrong role)."""

from __future__ import annotations

from datetime import timedelta

from passtrace.core.clock import local_today


def _post(client, path, headers, json, status=201):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/supplies{path}", json=json, headers=headers)
    assert resp.status_code == status, resp.text
    return resp.json()


def test_request_allocate_and_receive_through_the_api(client, make_persona):
    officer = make_persona("supplies_officer", "area", "520102")
    h = officer.headers
    item = _post(client, "/items", h, {"name": "N95口罩-api", "category": "respirator",
                                       "unit": "只", "pack_size": 20})
    wh = _post(client, "/depots", h, {"code": "WH-API", "name": "云岩区仓库",
                                      "kind": "district_warehouse", "area_code": "520102"})
    cp = _post(client, "/depots", h, {"code": "CP-API", "name": "北站卡口",
                                      "kind": "checkpoint", "area_code": "520102"})
    _post(client, f"/depots/{wh['id']}/receipts", h, {
        "item_id": item["id"], "lot_number": "L1",
        "expires_on": (local_today() + timedelta(days=300)).isoformat(),
        "quantity": 40, "supplier": "红十字会"})
    req = _post(client, "/requests", h, {
        "depot_id": cp["id"], "item_id": item["id"], "quantity": 100, "priority": "critical",
        "needed_by": (local_today() + timedelta(days=1)).isoformat(),
        "justification": "夜班执勤"})
    resp = client.get(f"/api/v1/supplies/depots/{wh['id']}/allocations/{item['id']}",
                      headers=h)
    assert resp.status_code == 200, resp.text
    [share] = resp.json()["shares"]
    assert share["quantity"] == 40 and share["request"]["id"] == req["id"]
    assert "40" in share["explanation"] and "critical" not in share["explanation"]
    sent = _post(client, f"/depots/{wh['id']}/allocations/{item['id']}", h, None)
    assert sent["shares"][0]["request"]["state"] == "partly_approved"
    stock = client.get(f"/api/v1/supplies/depots/{wh['id']}/stock", headers=h).json()
    assert stock == {"items": [], "next": None}
    # The checkpoint's transfer arrives two short.
    transfers = client.get(f"/api/v1/supplies/depots/{cp['id']}/stock", headers=h).json()
    assert transfers["items"] == []
    # Issuing more than is there: a translated 409, nothing changes.
    resp = client.post(f"/api/v1/supplies/depots/{wh['id']}/issues", headers=h,
                       json={"item_id": item["id"], "quantity": 1, "consumer": "医院"})
    assert resp.status_code == 409 and "库存" in resp.text, resp.text


def test_permission_triple_on_receipts(client, make_persona, session):
    officer = make_persona("supplies_officer", "area", "520102")
    other = make_persona("supplies_officer", "area", "520103")
    public = make_persona("public")
    item = _post(client, "/items", officer.headers, {"name": "手套-api", "category": "gloves",
                                                     "unit": "双"})
    wh = _post(client, "/depots", officer.headers, {
        "code": "WH-P", "name": "仓库", "kind": "city_warehouse", "area_code": "520102"})
    body = {"item_id": item["id"], "lot_number": "L", "quantity": 5, "supplier": "厂家",
            "expires_on": (local_today() + timedelta(days=30)).isoformat()}
    _post(client, f"/depots/{wh['id']}/receipts", officer.headers, body)
    _post(client, f"/depots/{wh['id']}/receipts", other.headers, body, status=404)
    _post(client, f"/depots/{wh['id']}/receipts", public.headers, body, status=403)
    resp = client.get("/api/v1/supplies/items", headers=public.headers)
    assert resp.status_code == 403
    resp = client.get("/api/v1/supplies/depots", headers=other.headers)
    assert resp.json() == {"items": [], "next": None}
