"""Properties of same-place contacts, on random hand-sized worlds (both databases).

Symmetric: if B is A's contact, A is B's. Monotone: another person's registration never
removes a contact; a smaller W never adds one.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.sites.models import Site
from passtrace.tracing import colocation
from tests.tracing.world import T0, reg, site, stay

PEOPLE = ("pa", "pb", "pc")
START, END = T0 - timedelta(days=1), T0 + timedelta(days=1)
M = timedelta(minutes=1)

event = st.tuples(st.sampled_from(PEOPLE), st.integers(0, 1), st.integers(0, 240),
                  st.one_of(st.none(), st.integers(0, 90)))
world = st.lists(event, max_size=10)
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _build(session: Session, events: list[tuple[str, int, int, int | None]],
           sites: list[Site] | None = None) -> list[Site]:
    sites = sites or [site(session, "venue") for _ in range(2)]
    for who, s, minute, length in events:
        at = T0 + minute * M
        if length is None:
            reg(session, sites[s], who, at)
        else:
            stay(session, sites[s], who, at, at + length * M)
    return sites


def _contacts(session: Session, who: str, w: int = 30) -> set[str]:
    hits = colocation.find(session, person_hash=who, start=START, end=END, window_minutes=w,
                           overlap_minutes={})
    return {h.person_hash for h in hits}


def _in_savepoint(session: Session, body) -> None:  # type: ignore[no-untyped-def]
    nested = session.begin_nested()
    try:
        body()
    finally:
        nested.rollback()


@SETTINGS
@given(events=world)
def test_same_place_contacts_are_symmetric(rt: Runtime, session: Session,
                                           events: list) -> None:  # type: ignore[type-arg]
    def body() -> None:
        _build(session, events)
        found = {p: _contacts(session, p) for p in PEOPLE}
        for a in PEOPLE:
            for b in found[a]:
                assert a in found[b], (a, b, events)
    _in_savepoint(session, body)


@SETTINGS
@given(events=world, extra=event)
def test_another_registration_never_removes_a_contact(rt: Runtime, session: Session,
                                                      events: list, extra: tuple) -> None:  # type: ignore[type-arg]
    def body() -> None:
        sites = _build(session, events)
        before = _contacts(session, "pa")
        _build(session, [("pz", *extra[1:])], sites)
        assert before <= _contacts(session, "pa")
    _in_savepoint(session, body)


@SETTINGS
@given(events=world, w=st.integers(0, 60), smaller=st.integers(0, 60))
def test_a_smaller_window_never_adds_a_contact(rt: Runtime, session: Session, events: list,
                                               w: int, smaller: int) -> None:  # type: ignore[type-arg]
    def body() -> None:
        _build(session, events)
        assert _contacts(session, "pa", min(w, smaller)) <= _contacts(session, "pa", w)
    _in_savepoint(session, body)
