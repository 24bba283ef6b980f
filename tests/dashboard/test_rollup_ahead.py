"""Registrations stamped ahead of their write (a device clock running fast): counted
apart by their exact time, each counted exactly from its moment on (both databases).

These tests run on the real clock, not a frozen one: whether a row is ahead is decided
by the database's clock when it is written (dashboard/rollup.py), so the rows are
stamped a second or two after the real now, and the tests wait for that moment to pass
on the database before folding.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from passtrace.dashboard import rollup
from passtrace.dashboard.models import RegistrationAhead, RegistrationHour, RegistrationHourDelta
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.dashboard.conftest import registration
from tests.dashboard.test_rollup import figures, live, read, site_today

US = timedelta(microseconds=1)
HOUR = timedelta(hours=1)


def _rows(session: Any, table: Any, site: Site) -> int:
    """The registrations `table` counts for the site."""
    return int(session.scalar(select(func.coalesce(func.sum(table.n), 0))
                              .where(table.site_id == site.id)) or 0)


def _fold(session: Any) -> int:
    folded = rollup.fold(session, now=datetime.now(UTC))
    session.commit()
    return folded


def _until_past(moment: datetime) -> None:
    """Wait until the clock (the database's: the same machine's) has passed `moment`."""
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)


def _exact(session: Any, *moments: datetime) -> None:
    """The dashboard at each moment counts what the rows say, in the series, today's
    totals and the busiest sites alike."""
    for now in moments:
        expected = live(session, now)
        assert figures(read(session, now)) == expected, now
        assert site_today(read(session, now)) == expected[1:], now


def test_rows_stamped_ahead_count_from_their_moment_before_and_after_folding(session, site):
    _fold(session)
    start = datetime.now(UTC)
    soon = start + timedelta(seconds=1.5)  # ahead of the write by 1.5 s
    later = start + timedelta(seconds=2)
    next_hour = start.replace(minute=0, second=0, microsecond=0) + HOUR + timedelta(minutes=5)
    past = start - timedelta(minutes=1)  # an ordinary row, already past when written
    for at, decision, temperature in ((soon, "allow", 38.0), (later, "deny", 36.5),
                                      (next_hour, "allow", 36.5), (past, "allow", 38.5)):
        registration(session, site, at, decision=decision,
                     reasons=["revoked"] if decision == "deny" else None,
                     temperature=temperature)
    session.commit()
    # The three rows ahead are kept apart, by their time; the past one by its hour.
    assert _rows(session, RegistrationAhead, site) == 3
    assert _rows(session, RegistrationHourDelta, site) == 1
    expected = live(session, start)
    assert sum(expected[0]) >= 1 and figures(read(session, start)) == expected
    # Before each row's moment it is not counted; from it on it is, in its hour (the
    # next hour's row at 5 past, in the window of a reader then).
    _exact(session, start, soon - US, soon, soon + US, later, later + US,
           next_hour, next_hour + US)
    assert sum(live(session, later + US)[0]) == sum(live(session, start)[0]) + 2
    # Once the clock has passed them the fold moves them into their hour; the next
    # hour's row waits for its moment. Counted exactly at every moment, before and after.
    _until_past(later)
    assert _fold(session) >= 3  # the past row's delta and the two rows ahead, at least
    assert _rows(session, RegistrationAhead, site) == 1
    assert _rows(session, RegistrationHourDelta, site) == 0
    assert _rows(session, RegistrationHour, site) == session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.site_id == site.id, Registration.occurred_at <= later)) == 3
    _exact(session, start, soon - US, soon + US, later + US, next_hour - US,
           next_hour + US)
    # Folding again changes nothing.
    hours = session.execute(select(RegistrationHour.hour, RegistrationHour.n,
                                   RegistrationHour.fevers)
                            .where(RegistrationHour.site_id == site.id)
                            .order_by(RegistrationHour.hour, RegistrationHour.decision)).all()
    _fold(session)
    assert _rows(session, RegistrationAhead, site) == 1
    assert session.execute(select(RegistrationHour.hour, RegistrationHour.n,
                                  RegistrationHour.fevers)
                           .where(RegistrationHour.site_id == site.id)
                           .order_by(RegistrationHour.hour, RegistrationHour.decision)
                           ).all() == hours
    _exact(session, start, soon + US, next_hour + US)


def test_a_row_ahead_deleted_before_or_after_its_moment_counts_nowhere(session, site):
    _fold(session)
    start = datetime.now(UTC)
    gone_early = registration(session, site, start + timedelta(seconds=30))
    gone_late = registration(session, site, start + timedelta(seconds=1), decision="deny",
                             reasons=["expired"], temperature=38.0)
    session.commit()
    assert _rows(session, RegistrationAhead, site) == 2
    # Deleted while still ahead: its count and its removal meet in registration_ahead.
    session.delete(session.get(Registration, gone_early.id))
    session.commit()
    _exact(session, start, start + timedelta(seconds=31))
    # Deleted once its moment has passed: removed from its hour while its count is
    # still kept ahead, and the two cancel at every moment, before and after a fold.
    _until_past(gone_late.occurred_at)
    session.delete(session.get(Registration, gone_late.id))
    session.commit()
    moments = (start, gone_late.occurred_at, gone_late.occurred_at + US,
               start + timedelta(seconds=31))
    _exact(session, *moments)
    assert sum(figures(read(session, moments[2]))[0]) == sum(live(session, moments[2])[0])
    _fold(session)
    assert _rows(session, RegistrationAhead, site) == 0
    _exact(session, *moments)
