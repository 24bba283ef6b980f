"""The stock report an officer pages through (GET /api/v1/supplies/stock) and one depot's
lots (GET .../depots/{id}/stock): right sums, in order, each line once across pages,
nothing outside the reader's scope."""

from __future__ import annotations

from datetime import date

from passtrace.supplies import service
from tests.supplies.helpers import depot, fresh, item, stock


def _walk(client, path, headers):  # type: ignore[no-untyped-def]
    """Every line of a paged list, following `next` with two lines a page."""
    lines, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        url = f"/api/v1/supplies{path}{sep}limit=2" + (f"&cursor={cursor}" if cursor else "")
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        lines += body["items"]
        cursor = body["next"]
        if not cursor:
            return lines


def _arrange(session):  # type: ignore[no-untyped-def]
    """Three depots in Nanming holding two items in two lots each, one in Yunyan."""
    tag = fresh()
    items = [item(session) for _ in range(2)]
    depots = []
    for k in range(3):
        d = service.create_depot(session=session, actor=None, code=f"R{tag}-{k}",
                                 name=f"南明物资点{k}", kind="community", area_code="520102")
        for n, i in enumerate(items):
            stock(session, d, i, f"A{tag}{k}{n}", date(2027, 1, 1), 10 * (k + 1) + n)
            stock(session, d, i, f"B{tag}{k}{n}", date(2027, 6, 1), 5)
        depots.append(d)
    elsewhere = depot(session, area_code="520103")
    stock(session, elsewhere, items[0], f"C{tag}", date(2027, 1, 1), 99)
    session.commit()
    return items, depots, elsewhere


def test_the_officer_pages_through_stock_by_depot_and_item_in_order_each_line_once(
        client, session, make_persona):
    officer = make_persona("supplies_officer", "area", "520102")
    items, depots, elsewhere = _arrange(session)
    lines = _walk(client, "/stock", officer.headers)
    keys = [(x["depot_code"], x["item_name"]) for x in lines]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert elsewhere.id not in {x["depot_id"] for x in lines}
    mine = {(x["depot_id"], x["item_id"]): x["quantity"] for x in lines}
    for k, d in enumerate(depots):
        for n, i in enumerate(items):
            # Both lots summed: 10 (k + 1) + n in the first, 5 in the second.
            assert mine[(str(d.id), str(i.id))] == 10 * (k + 1) + n + 5


def test_the_report_for_one_item_lists_only_that_item(client, session, make_persona):
    officer = make_persona("supplies_officer", "area", "520102")
    items, depots, _ = _arrange(session)
    lines = _walk(client, f"/stock?item_id={items[1].id}", officer.headers)
    assert {x["item_id"] for x in lines} == {str(items[1].id)}
    assert [x["quantity"] for x in lines if x["depot_id"] in {str(d.id) for d in depots}] == [
        16, 26, 36]


def test_a_depot_clerk_sees_only_the_depot_and_the_public_nothing(client, session,
                                                                   make_persona):
    items, depots, _ = _arrange(session)
    clerk = make_persona("supplies_officer", "depot", depots[1].code)
    lines = _walk(client, "/stock", clerk.headers)
    assert {x["depot_id"] for x in lines} == {str(depots[1].id)} and len(lines) == 2
    public = make_persona("public")
    assert client.get("/api/v1/supplies/stock", headers=public.headers).status_code == 403


def test_a_depots_lots_page_by_expiry_and_leave_out_empty_lots(client, session,
                                                               make_persona):
    officer = make_persona("supplies_officer", "area", "520102")
    items, depots, _ = _arrange(session)
    d = depots[0]
    service.issue(session=session, actor=None, depot_id=d.id, item_id=items[0].id,
                  quantity=10, consumer="卡口")  # empties the earliest lot of the first item
    session.commit()
    lots = _walk(client, f"/depots/{d.id}/stock", officer.headers)
    assert [x["expires_on"] for x in lots] == sorted(x["expires_on"] for x in lots)
    assert sorted(x["quantity"] for x in lots) == [5, 5, 11]
    assert len({x["lot_id"] for x in lots}) == 3
