"""The persona rule on the supplies API: an officer of another area is told a depot,
request or transfer does not exist (404, the same answer as an id nobody holds), so ids
of other districts cannot be probed; a resident gets 403 whatever the id; someone who
sees the depot but lacks the power (its own staff deciding its request) gets 403."""

from __future__ import annotations

import uuid
from datetime import timedelta

from passtrace.core.clock import local_today
from passtrace.supplies import requests, service
from tests.supplies.helpers import depot, item, stock
from tests.supplies.page_helpers import staff_of

API = "/api/v1/supplies"


def test_another_areas_officer_gets_404_like_an_unknown_id(client, session, make_persona):
    wh, cp, i = depot(session), depot(session, "checkpoint"), item(session)
    stock(session, wh, i, "L1", local_today() + timedelta(days=90), 20)
    staff = staff_of(make_persona, cp)
    r = requests.file_request(session=session, actor=staff.principal, depot_id=cp.id,
                              item_id=i.id, quantity=5, priority="normal",
                              needed_by=local_today() + timedelta(days=2),
                              justification="卡口值守用")
    [t] = service.transfer(session=session, actor=None, from_depot_id=wh.id, to_depot_id=cp.id,
                           item_id=i.id, quantity=3)
    session.commit()
    far = make_persona("supplies_officer", "area", "520103")
    public = make_persona("public")
    lot = {"item_id": str(i.id), "lot_number": "L2", "quantity": 1, "supplier": "厂家",
           "expires_on": (local_today() + timedelta(days=90)).isoformat()}
    calls = {  # name -> (method, path for an id, body)
        "stock": ("GET", "/depots/{d}/stock", None),
        "forecast": ("GET", "/depots/{d}/forecast/" + str(i.id), None),
        "receipt": ("POST", "/depots/{d}/receipts", lot),
        "issue": ("POST", "/depots/{d}/issues",
                  {"item_id": str(i.id), "quantity": 1, "consumer": "医院"}),
        "adjust": ("POST", "/depots/{d}/adjustments",
                   {"lot_id": str(t.lot_id), "reason": "count", "counted": 0}),
        "allocation": ("GET", "/depots/{d}/allocations/" + str(i.id), None),
        "decide": ("POST", "/requests/{r}/decision", {"approved_quantity": 5, "reason": ""}),
        "receive": ("POST", "/transfers/{t}/receive", {"received_quantity": 3}),
    }
    real = {"d": wh.id, "r": r.id, "t": t.id}
    nobody = {k: uuid.uuid4() for k in real}
    for name, (method, path, body) in calls.items():
        ids = {**real, "d": cp.id} if name in ("stock", "forecast") else real
        for who, status in ((far, 404), (public, 403)):
            answers = [client.request(method, API + path.format(**which), json=body,
                                      headers=who.headers) for which in (ids, nobody)]
            assert [a.status_code for a in answers] == [status, status], (name, answers[0].text)
            # The same words for a real id as for one nobody holds: nothing to tell apart.
            assert answers[0].json() == answers[1].json(), name
            assert "没有" in answers[0].text or status == 403, answers[0].text
    # The pages answer alike: another area's officer cannot tell a real request or
    # transfer from an id nobody holds (the same status and the same words).
    for path, key in (("/supplies/requests/{r}", "r"), ("/supplies/transfers/{t}/receive", "t")):
        for who, status in ((far, 404), (public, 403)):
            pages = [client.get(path.format(**{key: which[key]}), headers=who.headers)
                     for which in (real, nobody)]
            assert [p.status_code for p in pages] == [status, status], (path, who)
            messages = [p.text.split("<main", 1)[-1] for p in pages]
            assert messages[0] == messages[1], path
    filed = client.post(f"{API}/requests", headers=far.headers, json={
        "depot_id": str(cp.id), "item_id": str(i.id), "quantity": 1, "priority": "normal",
        "needed_by": (local_today() + timedelta(days=2)).isoformat(), "justification": "x"})
    assert filed.status_code == 404, filed.text


def test_the_depots_own_staff_still_get_403_for_what_they_may_not_do(client, session,
                                                                      make_persona):
    cp, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, cp)
    r = requests.file_request(session=session, actor=staff.principal, depot_id=cp.id,
                              item_id=i.id, quantity=5, priority="normal",
                              needed_by=local_today() + timedelta(days=2),
                              justification="卡口值守用")
    session.commit()
    resp = client.post(f"{API}/requests/{r.id}/decision", headers=staff.headers,
                       json={"approved_quantity": 5, "reason": ""})
    assert resp.status_code == 403, resp.text
