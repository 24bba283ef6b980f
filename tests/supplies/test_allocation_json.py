"""The allocation's answer, written without pydantic (views.allocation_json), is the
bytes the response model writes: every field, escapes and Chinese text alike."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from passtrace.supplies import allocation, requests
from passtrace.supplies.schemas import AllocationRead, RequestRead, ShareRead
from passtrace.supplies.views import allocation_json


def _row(n: int, priority: str, quantity: int) -> requests.RequestRow:
    return requests.RequestRow(
        id=uuid.uuid4(), depot_id=uuid.uuid4(), item_id=uuid.uuid4(), quantity=quantity,
        priority=priority, needed_by=date(2026, 12, 5 + n),
        justification=f'夜班执勤 "{n}"\t\\ \n\x01 \u2028', state="open",
        approved_quantity=None, decision_reason="", requested_by=None)


def test_it_answers_the_same_bytes_as_the_response_model() -> None:
    rows = [_row(0, "critical", 30), _row(1, "high", 7), _row(2, "high", 5),
            _row(3, "normal", 9)]
    plan = [(r, s) for r, s in zip(rows, allocation.allocate(40, [
        allocation.Need(r.id, r.priority, r.quantity) for r in rows]), strict=True)]
    # One decided the way a commit hands it back.
    plan[1] = (replace(plan[1][0], state="partly_approved", approved_quantity=6,
                       decision_reason=allocation.explain(plan[1][1])), plan[1][1])
    model = AllocationRead(available=40, shares=[
        ShareRead(request=RequestRead.model_validate(r, from_attributes=True),
                  quantity=s.quantity, explanation=allocation.explain(s)) for r, s in plan])
    assert allocation_json(40, plan) == model.model_dump_json().encode()
    empty = AllocationRead(available=0, shares=[])
    assert allocation_json(0, []) == empty.model_dump_json().encode()
