"""Requests: filed by a depot's staff, decided by an area officer, the requester told."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from passtrace.core.clock import local_today
from passtrace.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from passtrace.notices.models import Notice
from passtrace.notices.service import InAppNotifier
from passtrace.supplies import requests
from tests.supplies.helpers import depot, item


def _file(session, actor, d, i, quantity=100, priority="critical"):  # type: ignore[no-untyped-def]
    return requests.file_request(session=session, actor=actor, depot_id=d.id, item_id=i.id,
                                 quantity=quantity, priority=priority,
                                 needed_by=local_today() + timedelta(days=2),
                                 justification="夜班执勤人员口罩不足")


def test_a_checkpoint_requests_and_is_told_of_a_partial_approval(session, make_persona):
    checkpoint, i = depot(session, "checkpoint"), item(session)
    clerk = make_persona("supplies_officer", "depot", checkpoint.code)
    officer = make_persona("supplies_officer", "area", "520102").principal
    r = _file(session, clerk.principal, checkpoint, i)
    with pytest.raises(Forbidden):  # the depot's own staff do not decide their requests
        requests.decide(session=session, actor=clerk.principal, request_id=r.id,
                        approved_quantity=100, reason="", notifier=InAppNotifier(session))
    with pytest.raises(ValidationFailed):  # less than asked needs a reason
        requests.decide(session=session, actor=officer, request_id=r.id,
                        approved_quantity=60, reason=" ", notifier=InAppNotifier(session))
    requests.decide(session=session, actor=officer, request_id=r.id, approved_quantity=60,
                    reason="库存紧张", notifier=InAppNotifier(session))
    assert (r.state, r.approved_quantity) == ("partly_approved", 60)
    [notice] = session.scalars(select(Notice).where(Notice.user_id == clerk.user.id)).all()
    assert notice.params == {"approved": 60, "asked": 100, "reason": "库存紧张"}
    with pytest.raises(InvalidState):
        requests.decide(session=session, actor=officer, request_id=r.id,
                        approved_quantity=0, reason="重复", notifier=InAppNotifier(session))


def test_bad_requests_are_refused(session, make_persona):
    checkpoint, warehouse, i = depot(session, "checkpoint"), depot(session), item(session)
    officer = make_persona("supplies_officer", "area", "520102").principal
    stranger = make_persona("supplies_officer", "area", "520103").principal
    with pytest.raises(NotFound):  # another area's depot does not exist for them
        _file(session, stranger, checkpoint, i)
    with pytest.raises(ValidationFailed):
        _file(session, officer, warehouse, i)
    for bad in ({"quantity": 0}, {"priority": "urgent"}):
        with pytest.raises(ValidationFailed):
            _file(session, officer, checkpoint, i, **bad)
    with pytest.raises(ValidationFailed):
        requests.file_request(session=session, actor=officer, depot_id=checkpoint.id,
                              item_id=i.id, quantity=1, priority="normal",
                              needed_by=date(2020, 1, 1), justification="x")
