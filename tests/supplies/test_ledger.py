"""The stock ledger on both databases: receipts, FEFO issues, transfers, adjustments."""

from __future__ import annotations

from datetime import date

import pytest

from passtrace.core.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from passtrace.supplies import service
from passtrace.supplies.models import SupplyLot
from tests.supplies.helpers import depot, item, ledger_sum, on_hand, stock


def test_an_issue_takes_the_earliest_expiring_lot_first(session):
    d, i = depot(session), item(session)
    stock(session, d, i, "LATE", date(2028, 1, 1), 100)
    stock(session, d, i, "EARLY", date(2027, 3, 1), 30)
    entries = service.issue(session=session, actor=None, depot_id=d.id, item_id=i.id,
                            quantity=50, consumer="南明区卡口")
    taken = {session.get(SupplyLot, e.lot_id).lot_number: -e.quantity for e in entries}
    assert taken == {"EARLY": 30, "LATE": 20}
    assert on_hand(session, d, i) == 80 == ledger_sum(session, d, i)


def test_a_named_lot_is_issued_even_if_another_expires_sooner(session):
    d, i = depot(session), item(session)
    stock(session, d, i, "LATE", date(2028, 1, 1), 10)
    stock(session, d, i, "EARLY", date(2027, 3, 1), 10)
    late = service.lot_for(session=session, item=i, lot_number="LATE",
                           expires_on=date(2028, 1, 1))
    [entry] = service.issue(session=session, actor=None, depot_id=d.id, item_id=i.id,
                            quantity=4, consumer="医院", lot_id=late.id)
    assert entry.lot_id == late.id and on_hand(session, d, i) == 16


def test_issuing_more_than_is_on_hand_is_refused_and_changes_nothing(session):
    d, i = depot(session), item(session)
    stock(session, d, i, "A", date(2027, 1, 1), 5)
    with pytest.raises(InvalidState):
        service.issue(session=session, actor=None, depot_id=d.id, item_id=i.id, quantity=6,
                      consumer="卡口")
    with pytest.raises(ValidationFailed):
        service.issue(session=session, actor=None, depot_id=d.id, item_id=i.id, quantity=0,
                      consumer="卡口")
    assert on_hand(session, d, i) == 5 == ledger_sum(session, d, i)


def test_a_transfer_is_in_transit_until_received_and_keeps_the_shortfall(session):
    src, dst, i = depot(session), depot(session, "checkpoint"), item(session)
    stock(session, src, i, "A", date(2027, 1, 1), 40)
    [t] = service.transfer(session=session, actor=None, from_depot_id=src.id,
                           to_depot_id=dst.id, item_id=i.id, quantity=25)
    assert t.state == "in_transit"
    assert on_hand(session, src, i) == 15 and on_hand(session, dst, i) == 0
    service.receive_transfer(session=session, actor=None, transfer_id=t.id,
                             received_quantity=23)
    assert (t.state, t.received_quantity, t.discrepancy) == ("received", 23, -2)
    assert on_hand(session, dst, i) == 23 == ledger_sum(session, dst, i)
    with pytest.raises(InvalidState):
        service.receive_transfer(session=session, actor=None, transfer_id=t.id,
                                 received_quantity=23)


def test_a_count_sets_the_balance_and_damage_writes_off(session):
    d, i = depot(session), item(session)
    stock(session, d, i, "A", date(2027, 1, 1), 20)
    lot = service.lot_for(session=session, item=i, lot_number="A", expires_on=date(2027, 1, 1))
    service.adjust(session=session, actor=None, depot_id=d.id, lot_id=lot.id, reason="count",
                   note="月末盘点", counted=18)
    service.adjust(session=session, actor=None, depot_id=d.id, lot_id=lot.id, reason="damage",
                   note="受潮", change=3)
    assert on_hand(session, d, i) == 15 == ledger_sum(session, d, i)
    with pytest.raises(InvalidState):
        service.adjust(session=session, actor=None, depot_id=d.id, lot_id=lot.id,
                       reason="expiry", note="过期", change=16)


def test_a_lot_keeps_one_expiry_date(session):
    d, i = depot(session), item(session)
    stock(session, d, i, "A", date(2027, 1, 1), 1)
    with pytest.raises(Conflict):
        stock(session, d, i, "A", date(2027, 6, 1), 1)


def test_an_officer_moves_stock_only_in_their_area(session, make_persona):
    d, i = depot(session, area_code="520102"), item(session)
    inside = make_persona("supplies_officer", "area", "520102").principal
    outside = make_persona("supplies_officer", "area", "520103").principal
    clerk = make_persona("checkpoint_staff", "site", "X").principal
    service.receive(session=session, actor=inside, depot_id=d.id, item_id=i.id,
                    lot_number="A", expires_on=date(2027, 1, 1), quantity=3, supplier="厂家")
    # An officer of another area is told the depot does not exist (404, so its id cannot
    # be probed); someone with no supplies role is refused (403).
    for who, refusal in ((outside, NotFound), (clerk, Forbidden)):
        with pytest.raises(refusal):
            service.issue(session=session, actor=who, depot_id=d.id, item_id=i.id,
                          quantity=1, consumer="x")
    assert on_hand(session, d, i) == 3
