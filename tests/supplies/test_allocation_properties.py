"""Allocation under shortage: never more than stock, priority respected, proportional
within one priority (each share within one unit of the exact proportion)."""

from __future__ import annotations

import uuid
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from passtrace.supplies.allocation import Need, allocate
from passtrace.supplies.models import PRIORITIES

need = st.builds(lambda p, q: Need(uuid.uuid4(), p, q), st.sampled_from(PRIORITIES),
                 st.integers(1, 500))


@settings(max_examples=300, deadline=None)
@given(available=st.integers(0, 3000), needs=st.lists(need, max_size=25))
def test_allocation_is_bounded_by_stock_ordered_by_priority_and_proportional(available, needs):
    shares = {s.request_id: s.quantity for s in allocate(available, needs)}
    assert set(shares) == {n.request_id for n in needs}
    total_need = sum(n.quantity for n in needs)
    assert sum(shares.values()) == min(available, total_need)
    assert all(0 <= shares[n.request_id] <= n.quantity for n in needs)
    left = available
    for p in PRIORITIES:
        group = [n for n in needs if n.priority == p]
        asked = sum(n.quantity for n in group)
        got = sum(shares[n.request_id] for n in group)
        # A lower priority gets anything only once every higher one is served in full.
        assert got == min(asked, left)
        if group and got < asked:
            for n in group:
                exact = Fraction(n.quantity * got, asked)
                assert abs(shares[n.request_id] - exact) < 1
        left -= got


def test_a_shortage_is_shared_by_need_and_explained():
    a, b, c = (Need(uuid.uuid4(), "critical", 300), Need(uuid.uuid4(), "critical", 100),
               Need(uuid.uuid4(), "normal", 50))
    shares = allocate(200, [a, b, c])
    assert [s.quantity for s in shares] == [150, 50, 0]
    assert shares[0].params == {"got": 150, "asked": 300, "priority": "critical",
                                "total": 400, "available": 200}
