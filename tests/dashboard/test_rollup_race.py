"""Writers and folds at once: every registration is counted exactly once (both databases).

Committed data, real transactions (tests/concurrency.py). A fold that read the deltas
and deleted them in two statements would lose a delta committed between the two; two
folds adding the same deltas would count them twice (dashboard/rollup.py: one statement
on PostgreSQL, an advisory lock between folds).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from passtrace.core.ids import uuid7
from passtrace.dashboard import rollup
from passtrace.dashboard.models import RegistrationAhead
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.concurrency import is_postgres, race, tag


def _site(rt: Any) -> Site:
    with rt.sessions() as session:
        site = Site(code=f"RR-{tag()}", name="并发卡口", kind="road_checkpoint",
                    area_code="520102004", lanes=["1"], fever_threshold=37.3)
        session.add(site)
        session.commit()
        session.refresh(site)
        return site


def _counted(rt: Any, site: Site, now: datetime) -> tuple[int, int]:
    """The site's registrations of the last day by the hourly counts, and by its rows."""
    since = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    with rt.sessions() as session:
        c = rollup.counted(session, since=since, until=since + timedelta(hours=24), now=now)
        by_counts = session.scalar(select(func.coalesce(func.sum(c.c.n), 0))
                                   .where(c.c.site_id == site.id))
        by_rows = session.scalar(select(func.count()).select_from(Registration).where(
            Registration.site_id == site.id, Registration.occurred_at >= since,
            Registration.occurred_at < now))
    return int(by_counts or 0), int(by_rows or 0)


def _writer(site: Site, base: datetime, n: int) -> Any:
    def call(session: Any) -> None:
        for i in range(n):
            at = base - timedelta(minutes=7 * i)  # spread over the hours, some folded
            session.add(Registration(
                id=uuid7(), site_id=site.id, lane="1", device_key="d", occurred_at=at,
                received_at=base, direction="through", method="qr", person_hash="r" * 64,
                person_masked="", id_last4="", temperature=38.0 if i % 4 == 0 else 36.5,
                companions=0, origin="", destination="", decision="allow", reasons=[]))
            session.flush()
    return call


def _fold(session: Any) -> None:
    rollup.fold(session)


def test_writers_and_folds_at_once_count_every_row_once(committed_rt):
    rt = committed_rt
    site = _site(rt)
    now = datetime.now(UTC)
    outcomes: list[str] = []
    for round_ in range(6):
        base = now - timedelta(minutes=1 + round_)
        outcomes += race(rt, _writer(site, base, 20), _fold, _writer(site, base, 20), _fold)
    assert not [o for o in outcomes if o not in ("ok", "busy")], outcomes
    if is_postgres(rt):  # writers only append: nobody waits on a counter, nobody fails
        assert set(outcomes) == {"ok"}, outcomes
    by_counts, by_rows = _counted(rt, site, now)
    assert by_rows > 0 and by_counts == by_rows
    with rt.sessions() as session:
        rollup.fold(session)
        session.commit()
    assert _counted(rt, site, now) == (by_rows, by_rows)


def _ahead_writer(site: Site, n: int) -> Any:
    """A device whose clock runs fast: its rows are stamped up to a second ahead of the
    write, so some pass while the folds run and some are still ahead when they do."""
    def call(session: Any) -> None:
        base = datetime.now(UTC)
        for i in range(n):
            session.add(Registration(
                id=uuid7(), site_id=site.id, lane="1", device_key="fast", received_at=base,
                occurred_at=base + timedelta(milliseconds=50 * (i + 1)), direction="through",
                method="qr", person_hash="a" * 64, person_masked="", id_last4="",
                temperature=38.0 if i % 3 == 0 else 36.5, companions=0, origin="",
                destination="", decision="allow", reasons=[]))
            session.flush()
    return call


def test_rows_stamped_ahead_and_folds_at_once_count_every_row_once(committed_rt):
    """A fold moves the rows ahead whose time has passed into their hour in the same
    statement that deletes them: a row counted both ahead and in its hour, or in
    neither, would show in the sums at some moment."""
    rt = committed_rt
    site = _site(rt)
    outcomes: list[str] = []
    for _ in range(5):
        outcomes += race(rt, _ahead_writer(site, 20), _fold, _ahead_writer(site, 20), _fold)
        now = datetime.now(UTC)
        by_counts, by_rows = _counted(rt, site, now)
        assert by_counts == by_rows, (now, by_counts, by_rows)
    assert not [o for o in outcomes if o not in ("ok", "busy")], outcomes
    if is_postgres(rt):
        assert set(outcomes) == {"ok"}, outcomes
    with rt.sessions() as session:
        last = session.scalar(select(func.max(Registration.occurred_at))
                              .where(Registration.site_id == site.id))
    assert last is not None
    time.sleep(max(0.0, (last.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()) + 0.1)
    with rt.sessions() as session:
        rollup.fold(session)
        session.commit()
        still_ahead = session.scalar(select(func.count()).select_from(RegistrationAhead)
                                     .where(RegistrationAhead.site_id == site.id))
    after = datetime.now(UTC)
    by_counts, by_rows = _counted(rt, site, after)
    assert still_ahead == 0 and by_rows > 0 and by_counts == by_rows
