"""Requests on pages: a checkpoint files one, the officer's queue and decision, the
allocation preview and commit under shortage (both databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from passtrace.core.clock import local_today
from passtrace.supplies import requests
from passtrace.supplies.models import SupplyRequest, SupplyTransfer
from tests.supplies.helpers import depot, item, on_hand, stock
from tests.supplies.page_helpers import form_id, post, staff_of

SOON = (local_today() + timedelta(days=3)).isoformat()


def _file(session, d, i, quantity, priority="normal", by=None):  # type: ignore[no-untyped-def]
    return requests.file_request(session=session, actor=by.principal, depot_id=d.id,
                                 item_id=i.id, quantity=quantity, priority=priority,
                                 needed_by=local_today() + timedelta(days=2),
                                 justification="卡口值守用")


def _requests_of(session, d):  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(SupplyRequest).where(SupplyRequest.depot_id == d.id)))


def test_a_checkpoint_files_a_request_and_sees_it(client, make_persona, session):
    cp, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, cp)
    form = client.get(f"/supplies/depots/{cp.id}/requests/new", headers=staff.headers)
    assert form.status_code == 200
    data = {"form_id": form_id(), "item_id": str(i.id), "quantity": "500",
            "priority": "high", "needed_by": SOON, "justification": "夜班人手增加"}
    first = post(client, f"/supplies/depots/{cp.id}/requests/new", staff, data)
    second = post(client, f"/supplies/depots/{cp.id}/requests/new", staff, data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    [r] = _requests_of(session, cp)  # the double tap filed one request
    detail = client.get(first.headers["location"], headers=staff.headers)
    assert "夜班人手增加" in detail.text and 'id="decision-form"' not in detail.text
    home = client.get(f"/supplies/depots/{cp.id}", headers=staff.headers)
    assert f"/supplies/requests/{r.id}" in home.text


def test_a_bad_request_names_the_field_and_files_nothing(client, make_persona, session):
    cp, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, cp)
    for bad, field in (({"quantity": "0"}, "quantity"), ({"needed_by": "明天"}, "needed_by"),
                       ({"justification": ""}, "justification")):
        data = {"form_id": form_id(), "item_id": str(i.id), "quantity": "5",
                "priority": "normal", "needed_by": SOON, "justification": "日常", **bad}
        resp = post(client, f"/supplies/depots/{cp.id}/requests/new", staff, data)
        assert resp.status_code == 422, field
        # The message sits under the field it is about (before the next field's label).
        after = resp.text[resp.text.index(f'id="{field}"'):]
        until_next = after[:after.find("<label")] if "<label" in after else after
        assert 'class="field-error"' in until_next, field
    assert _requests_of(session, cp) == []


def test_who_may_file_and_see_requests(client, make_persona, session):
    cp, other, i = depot(session, "checkpoint"), depot(session, "community"), item(session)
    r = _file(session, cp, i, 10, by=staff_of(make_persona, cp))
    session.commit()
    outsider = staff_of(make_persona, other)
    assert client.get(f"/supplies/depots/{cp.id}/requests/new",
                      headers=outsider.headers).status_code == 404
    assert client.get(f"/supplies/requests/{r.id}", headers=outsider.headers).status_code == 404
    public = make_persona("public")
    assert client.get(f"/supplies/requests/{r.id}", headers=public.headers).status_code == 403
    assert client.get(f"/supplies/depots/{cp.id}/requests/new",
                      headers=public.headers).status_code == 403


def test_the_officer_queue_filters_and_decides(client, make_persona, session):
    cp, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, cp)
    urgent = _file(session, cp, i, 100, "critical", by=staff)
    normal = _file(session, cp, i, 60, "normal", by=staff)
    session.commit()
    officer = make_persona("supplies_officer", "area", "520102")
    page = client.get("/supplies/requests", headers=officer.headers)
    assert page.status_code == 200
    assert page.text.index(f"/supplies/requests/{urgent.id}") < page.text.index(
        f"/supplies/requests/{normal.id}")  # most urgent first
    only = client.get("/supplies/requests?priority=normal", headers=officer.headers).text
    assert str(normal.id) in only and str(urgent.id) not in only
    assert client.get("/supplies/requests", headers=staff.headers).status_code == 403
    far = make_persona("supplies_officer", "area", "520103")
    assert str(urgent.id) not in client.get("/supplies/requests", headers=far.headers).text
    assert client.get(f"/supplies/requests/{urgent.id}", headers=far.headers).status_code == 404

    # A partial approval needs a reason; refused, nothing changes.
    url = f"/supplies/requests/{urgent.id}/decision"
    refused = post(client, url, officer, {"form_id": form_id(), "action": "partly",
                                          "approved_quantity": "40", "reason": ""})
    assert refused.status_code == 422 and 'class="field-error"' in refused.text
    session.expire_all()
    assert session.get(SupplyRequest, urgent.id).state == "open"
    data = {"form_id": form_id(), "action": "partly", "approved_quantity": "40",
            "reason": "库存不足，先发一部分"}
    assert post(client, url, officer, data).status_code == 303
    assert post(client, url, officer, data).status_code == 303  # the double tap: same page
    session.expire_all()
    decided = session.get(SupplyRequest, urgent.id)
    assert decided.state == "partly_approved" and decided.approved_quantity == 40
    seen = client.get(f"/supplies/requests/{urgent.id}", headers=staff.headers).text
    assert "库存不足，先发一部分" in seen
    # Depot staff cannot decide their own request.
    assert post(client, f"/supplies/requests/{normal.id}/decision", staff, {
        "form_id": form_id(), "action": "approve"}).status_code == 403


def test_allocation_under_shortage_previews_then_commits_once(client, make_persona, session):
    wh, i = depot(session), item(session)
    a, b = depot(session, "checkpoint"), depot(session, "community")
    stock(session, wh, i, "ALLOC-1", local_today() + timedelta(days=200), 90)
    ra = _file(session, a, i, 100, by=staff_of(make_persona, a))
    rb = _file(session, b, i, 50, by=staff_of(make_persona, b))
    session.commit()
    officer = make_persona("supplies_officer", "area", "520102")
    preview = client.get(f"/supplies/allocation?warehouse={wh.id}&item={i.id}",
                         headers=officer.headers)
    assert preview.status_code == 200 and 'id="allocation-plan"' in preview.text
    assert ">60<" in preview.text and ">30<" in preview.text  # 90 shared 100:50
    session.expire_all()
    assert on_hand(session, wh, i) == 90  # a preview moves nothing
    data = {"form_id": form_id(), "warehouse_id": str(wh.id), "item_id": str(i.id)}
    first = post(client, "/supplies/allocation", officer, data)
    again = post(client, "/supplies/allocation", officer, data)
    assert first.status_code == again.status_code == 303
    session.expire_all()
    assert on_hand(session, wh, i) == 0
    assert session.get(SupplyRequest, ra.id).approved_quantity == 60
    assert session.get(SupplyRequest, rb.id).approved_quantity == 30
    sent = session.scalar(select(func.count()).select_from(SupplyTransfer).where(
        SupplyTransfer.from_depot_id == wh.id))
    # A second commit (a new form) finds nothing open: a message, nothing sent.
    second = post(client, "/supplies/allocation", officer, {**data, "form_id": form_id()})
    assert second.status_code in (409, 422) and 'id="form-message"' in second.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SupplyTransfer).where(
        SupplyTransfer.from_depot_id == wh.id)) == sent == 2
    # Depot staff may not allocate.
    assert client.get("/supplies/allocation", headers=staff_of(make_persona, a).headers
                      ).status_code == 403


def test_priorities_read_as_labels_in_english_and_words_in_the_explanation(
        client, make_persona, session):
    cp, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, cp)
    r = _file(session, cp, i, 500, priority="critical", by=staff)
    english = {**staff.headers, "Accept-Language": "en"}
    detail = client.get(f"/supplies/requests/{r.id}", headers=english).text
    assert "<dd>Critical</dd>" in detail  # not the stored word "critical"
    form = client.get(f"/supplies/depots/{cp.id}/requests/new", headers=english).text
    assert '<option value="high">High</option>' in form
    chinese = client.get(f"/supplies/requests/{r.id}", headers=staff.headers).text
    assert "<dd>紧急</dd>" in chinese
