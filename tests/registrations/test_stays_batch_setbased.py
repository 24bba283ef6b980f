"""A batch's stays, computed by the database on PostgreSQL, equal what Python built.

After a batch upload PostgreSQL computes the stays in one set-based pass
(stays.pg_after_rows); SQLite builds them in Python (stays._after_batch_orm, the
logic PostgreSQL used before). Hand-built sequences with known answers, on both
databases: the stays after the batch are the known ones, and both the Python path and
a full rebuild from the registrations leave exactly the same rows.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from passtrace.registrations import stays
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.registrations.test_stays import CAP, T0, _person, _reg, _site, _stays, _write

H = timedelta(hours=1)


def _upload(
    session: Session, site: Site, events: list[tuple[str, Any, str]], decision: str = "allow"
) -> list[Registration]:
    """Store (person, time, direction) rows as one batch does: insert, then after_batch."""
    rows = [_reg(site, person, when, direction, decision) for person, when, direction in events]
    session.add_all(rows)
    session.flush()
    stays.after_batch(
        session,
        site=site,
        rows=[
            {
                c: getattr(r, c)
                for c in ("id", "decision", "direction", "person_hash", "occurred_at")
            }
            for r in rows
        ],
    )
    return rows


def _all_stays(session: Session, persons: list[str]) -> list[list[tuple[Any, ...]]]:
    # By start, then id: two "in"s at one instant start two stays at once.
    return [sorted(_stays(session, p), key=lambda s: (s[2], s[0])) for p in persons]


def _agree(session: Session, site: Site, persons: list[str]) -> list[list[tuple[Any, ...]]]:
    """The persons' stays; the Python path and a rebuild must leave them unchanged."""
    after_batch = _all_stays(session, persons)
    moves = [{"person_hash": p, "occurred_at": T0 - 2 * CAP} for p in persons]
    stays._after_batch_orm(session, site=site, moves=moves)
    assert _all_stays(session, persons) == after_batch
    stays.rebuild(session, person_hashes=persons)
    assert _all_stays(session, persons) == after_batch
    return after_batch


def test_a_batch_out_closes_the_stay_opened_before_it(session):
    site, person = _site(session), _person()
    (came,) = _write(session, site, person, [(T0, "in")])
    (left,) = _upload(session, site, [(person, T0 + 2 * H, "out")])
    assert _agree(session, site, [person]) == [[(came.id, site.id, T0, T0 + 2 * H, "out", left.id)]]


def test_a_batch_in_without_an_out_stays_open_until_the_cap(session):
    site, person = _site(session), _person()
    (came,) = _upload(session, site, [(person, T0 + H, "in")])
    assert _agree(session, site, [person]) == [
        [(came.id, site.id, T0 + H, T0 + H + CAP, "cap", None)]
    ]


def test_a_batch_out_without_an_in_makes_no_stay(session):
    site, person = _site(session), _person()
    _upload(session, site, [(person, T0, "out"), (person, T0 + H, "out")])
    assert _agree(session, site, [person]) == [[]]


def test_a_stay_across_midnight_in_one_batch_is_one_interval(session):
    site, person = _site(session), _person()
    # 23:30 and 00:30 in Guiyang (UTC+8): two days, and two day partitions.
    late, early = T0 + timedelta(hours=14, minutes=30), T0 + timedelta(hours=15, minutes=30)
    came, left = _upload(session, site, [(person, late, "in"), (person, early, "out")])
    assert _agree(session, site, [person]) == [[(came.id, site.id, late, early, "out", left.id)]]


def test_an_in_uploaded_after_its_out_is_closed_by_it(session):
    site, person = _site(session), _person()
    (left,) = _write(session, site, person, [(T0 + 2 * H, "out")])
    (came,) = _upload(session, site, [(person, T0, "in")])
    assert _agree(session, site, [person]) == [[(came.id, site.id, T0, T0 + 2 * H, "out", left.id)]]


def test_an_in_at_the_instant_of_an_out_takes_over_the_end_of_the_stay_before(session):
    """The stay that ended exactly at the batch's first row is in scope too."""
    site, person = _site(session), _person()
    came, left = _write(session, site, person, [(T0, "in"), (T0 + H, "out")])
    # At one instant an "in" sorts before an "out": it ends the first stay (assumed,
    # "cap"), and its own stay of no length is the one the "out" closes.
    (again,) = _upload(session, site, [(person, T0 + H, "in")])
    assert _agree(session, site, [person]) == [
        [
            (came.id, site.id, T0, T0 + H, "cap", None),
            (again.id, site.id, T0 + H, T0 + H, "out", left.id),
        ]
    ]


def test_denied_rows_in_a_batch_change_no_stay(session):
    site, person = _site(session), _person()
    (came,) = _write(session, site, person, [(T0, "in")])
    _upload(session, site, [(person, T0 + H, "out")], decision="deny")
    assert _agree(session, site, [person]) == [[(came.id, site.id, T0, T0 + CAP, "cap", None)]]


def test_one_batch_for_several_people_keeps_each_ones_stays(session):
    site, first, second = _site(session), _person(), _person()
    (running,) = _write(session, site, second, [(T0 - 3 * H, "in")])
    a_in, b_out, a_out, b_in = _upload(
        session,
        site,
        [
            (first, T0, "in"),
            (second, T0 + H, "out"),
            (first, T0 + 4 * H, "out"),
            (second, T0 + 5 * H, "in"),
        ],
    )
    assert _agree(session, site, [first, second]) == [
        [(a_in.id, site.id, T0, T0 + 4 * H, "out", a_out.id)],
        [
            (running.id, site.id, T0 - 3 * H, T0 + H, "out", b_out.id),
            (b_in.id, site.id, T0 + 5 * H, T0 + 5 * H + CAP, "cap", None),
        ],
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_batches_give_what_one_by_one_upkeep_gives(session, seed):
    """Events split at random into stored-online and several batches, in any order."""
    rnd = random.Random(seed)
    site, persons = _site(session), [_person() for _ in range(3)]
    events = [
        (
            rnd.choice(persons),
            T0 + timedelta(minutes=rnd.randrange(0, 30 * 60, 20)),
            rnd.choice(("in", "in", "out")),
        )
        for _ in range(60)
    ]
    rnd.shuffle(events)
    for i in range(0, len(events), 15):
        part = events[i : i + 15]
        if i == 0:
            for person, when, direction in part:
                _write(session, site, person, [(when, direction)])
        else:
            _upload(session, site, part)
    batched = _agree(session, site, persons)
    assert sum(map(len, batched)) > 5  # the sequences do make stays
