"""Depot staff's phone pages: receive, issue, count, receive a transfer; who may; bad
input changes nothing; a double tap saves once (both databases)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from passtrace.core.clock import local_today
from passtrace.supplies import service
from passtrace.supplies.models import LedgerEntry, SupplyLot, SupplyTransfer
from tests.supplies.helpers import depot, item, on_hand, stock
from tests.supplies.page_helpers import form_id, post, staff_of

LATER = (local_today() + timedelta(days=300)).isoformat()


def test_depot_staff_receive_a_delivery_of_a_new_lot(client, make_persona, session):
    d, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, d)
    page = client.get(f"/supplies/depots/{d.id}/receive", headers=staff.headers)
    assert page.status_code == 200 and i.name in page.text
    resp = post(client, f"/supplies/depots/{d.id}/receive", staff, {
        "form_id": form_id(), "item_id": str(i.id), "lot_number": "KZ-2026-01",
        "expires_on": LATER, "quantity": "120", "supplier": "红十字会"})
    assert resp.status_code == 303, resp.text
    session.expire_all()
    assert on_hand(session, d, i) == 120
    home = client.get(resp.headers["location"], headers=staff.headers)
    assert "KZ-2026-01" in home.text and "120" in home.text


def test_a_known_lot_can_be_picked_instead_of_typed(client, make_persona, session):
    d, i = depot(session, "checkpoint"), item(session)
    stock(session, d, i, "OLD-7", date(2027, 5, 1), 10)
    lot = session.scalar(select(SupplyLot).where(SupplyLot.lot_number == "OLD-7"))
    staff = staff_of(make_persona, d)
    resp = post(client, f"/supplies/depots/{d.id}/receive", staff, {
        "form_id": form_id(), "item_id": str(i.id), "lot_id": str(lot.id),
        "quantity": "5", "supplier": "省储备库"})
    assert resp.status_code == 303
    session.expire_all()
    assert on_hand(session, d, i) == 15


def test_who_may_open_the_receive_form(client, make_persona, session):
    d, other = depot(session, "checkpoint"), depot(session, "community")
    assert client.get(f"/supplies/depots/{d.id}/receive",
                      headers=staff_of(make_persona, d).headers).status_code == 200
    # Staff of another depot: the depot does not exist for them.
    assert client.get(f"/supplies/depots/{d.id}/receive",
                      headers=staff_of(make_persona, other).headers).status_code == 404
    assert client.get(f"/supplies/depots/{d.id}/receive",
                      headers=make_persona("checkpoint_staff", "site", "CP-X").headers
                      ).status_code == 403


def test_bad_receipts_name_the_field_and_book_nothing(client, make_persona, session):
    d, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, d)
    resp = post(client, f"/supplies/depots/{d.id}/receive", staff, {
        "form_id": form_id(), "item_id": str(i.id), "lot_number": "A-1", "expires_on": LATER,
        "quantity": "十", "supplier": "红十字会"})
    assert resp.status_code == 422
    assert 'class="field-error"' in resp.text and 'value="十"' in resp.text
    resp = post(client, f"/supplies/depots/{d.id}/receive", staff, {
        "form_id": form_id(), "item_id": str(i.id), "quantity": "10", "supplier": "红十字会"})
    # Neither a known lot nor a new lot's number and expiry: both boxes say what is missing.
    assert resp.status_code == 422 and resp.text.count('class="field-error"') == 2
    session.expire_all()
    assert on_hand(session, d, i) == 0


def test_a_double_tapped_receipt_books_once(client, make_persona, session):
    d, i = depot(session, "checkpoint"), item(session)
    staff = staff_of(make_persona, d)
    data = {"form_id": form_id(), "item_id": str(i.id), "lot_number": "TWICE-1",
            "expires_on": LATER, "quantity": "40", "supplier": "红十字会"}
    first = post(client, f"/supplies/depots/{d.id}/receive", staff, data)
    second = post(client, f"/supplies/depots/{d.id}/receive", staff, data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    session.expire_all()
    assert on_hand(session, d, i) == 40


def test_issue_shows_the_earliest_expiring_lots_before_confirming(client, make_persona,
                                                                   session):
    d, i = depot(session, "checkpoint"), item(session)
    stock(session, d, i, "LATE-1", local_today() + timedelta(days=200), 50)
    stock(session, d, i, "SOON-1", local_today() + timedelta(days=20), 30)
    staff = staff_of(make_persona, d)
    data = {"form_id": form_id(), "item_id": str(i.id), "quantity": "40", "consumer": "卡口值守"}
    preview = post(client, f"/supplies/depots/{d.id}/issue", staff, data)
    assert preview.status_code == 200
    table = preview.text[preview.text.index('id="issue-picks"'):]
    assert table.index("SOON-1") < table.index("LATE-1")
    session.expire_all()
    assert on_hand(session, d, i) == 80  # nothing issued before confirming
    done = post(client, f"/supplies/depots/{d.id}/issue", staff, {**data, "confirm": "1"})
    again = post(client, f"/supplies/depots/{d.id}/issue", staff, {**data, "confirm": "1"})
    assert done.status_code == again.status_code == 303
    session.expire_all()
    assert on_hand(session, d, i) == 40  # the double tap issued once


def test_issuing_more_than_the_shelf_holds_says_so_on_the_quantity(client, make_persona,
                                                                    session):
    d, i = depot(session, "checkpoint"), item(session)
    stock(session, d, i, "ONLY-1", local_today() + timedelta(days=90), 12)
    staff = staff_of(make_persona, d)
    for confirm in ("", "1"):
        resp = post(client, f"/supplies/depots/{d.id}/issue", staff, {
            "form_id": form_id(), "item_id": str(i.id), "quantity": "13", "consumer": "卡口",
            "confirm": confirm})
        assert resp.status_code == 422
        assert 'id="quantity-error"' in resp.text and "12" in resp.text
    session.expire_all()
    assert on_hand(session, d, i) == 12


def test_a_count_books_the_difference_with_its_reason(client, make_persona, session):
    d, i = depot(session, "checkpoint"), item(session)
    stock(session, d, i, "CNT-1", local_today() + timedelta(days=90), 50)
    lot = session.scalar(select(SupplyLot).where(SupplyLot.lot_number == "CNT-1"))
    staff = staff_of(make_persona, d)
    page = client.get(f"/supplies/depots/{d.id}/count", headers=staff.headers)
    assert page.status_code == 200 and "CNT-1" in page.text
    elsewhere = depot(session, "community")
    stock(session, elsewhere, i, "CNT-ELSEWHERE", local_today() + timedelta(days=90), 5)
    foreign = session.scalar(select(SupplyLot).where(SupplyLot.lot_number == "CNT-ELSEWHERE"))
    session.commit()
    not_here = post(client, f"/supplies/depots/{d.id}/count", staff, {
        "form_id": form_id(), "lot_id": str(foreign.id), "counted": "5", "note": "多出"})
    assert not_here.status_code == 422 and 'id="form-message"' in not_here.text
    no_reason = post(client, f"/supplies/depots/{d.id}/count", staff, {
        "form_id": form_id(), "lot_id": str(lot.id), "counted": "47", "note": ""})
    assert no_reason.status_code == 422 and 'class="field-error"' in no_reason.text
    session.expire_all()
    assert on_hand(session, d, i) == 50
    data = {"form_id": form_id(), "lot_id": str(lot.id), "counted": "47", "note": "破损三只"}
    assert post(client, f"/supplies/depots/{d.id}/count", staff, data).status_code == 303
    assert post(client, f"/supplies/depots/{d.id}/count", staff, data).status_code == 303
    session.expire_all()
    assert on_hand(session, d, i) == 47
    adjustments = session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.depot_id == d.id, LedgerEntry.kind == "adjustment"))
    assert adjustments == 1


def test_an_incoming_transfer_is_received_with_its_discrepancy(client, make_persona, session):
    wh, cp, i = depot(session), depot(session, "checkpoint"), item(session)
    stock(session, wh, i, "TR-1", local_today() + timedelta(days=90), 100)
    [t] = service.transfer(session=session, actor=None, from_depot_id=wh.id, to_depot_id=cp.id,
                           item_id=i.id, quantity=30)
    session.commit()
    staff = staff_of(make_persona, cp)
    home = client.get(f"/supplies/depots/{cp.id}", headers=staff.headers)
    assert f"/supplies/transfers/{t.id}/receive" in home.text
    form = client.get(f"/supplies/transfers/{t.id}/receive", headers=staff.headers)
    assert form.status_code == 200 and 'value="30"' in form.text  # the expected, prefilled
    assert client.get(f"/supplies/transfers/{t.id}/receive",
                      headers=staff_of(make_persona, wh).headers).status_code == 404
    bad = post(client, f"/supplies/transfers/{t.id}/receive", staff,
               {"form_id": form_id(), "received_quantity": "31"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    data = {"form_id": form_id(), "received_quantity": "28"}
    assert post(client, f"/supplies/transfers/{t.id}/receive", staff, data).status_code == 303
    assert post(client, f"/supplies/transfers/{t.id}/receive", staff, data).status_code == 303
    session.expire_all()
    received = session.get(SupplyTransfer, t.id)
    assert received.state == "received" and received.discrepancy == -2
    assert on_hand(session, cp, i) == 28
