"""Imports on PostgreSQL go straight into the day partitions and add the hour counts.

A chunk is inserted into the partitions of its rows' days (and the default one), not
through the partitioned parent, so the parent's hour-count trigger does not fire: the
import adds the same counts itself, for the hours the dashboard keeps. A partition made
after the import listed them must still receive its rows (the chunk then goes through
the parent), never fail the import.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.ids import uuid7
from passtrace.dashboard import rollup
from passtrace.dashboard.models import (
    RegistrationAhead,
    RegistrationHour,
    RegistrationHourDelta,
)
from passtrace.registrations import imports, partitions
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.conftest import next_id_number
from tests.registrations.test_imports import _venue

HEADER = "external_id,site_code,id_number,occurred_at,direction,temperature,plate\n"
CST = timezone(timedelta(hours=8))


def _load(session: Session, rt: Any, lines: list[str]) -> imports.RegistrationImport:
    data = (HEADER + "".join(line + "\n" for line in lines)).encode()
    return imports.import_registrations(session=session, vault=rt.vault, actor=None,
                                        stream=io.BytesIO(data), commit=session.commit,
                                        chunk_rows=3)


def _line(run: str, n: int, site: Site, at: datetime, temperature: str = "") -> str:
    return (f"{run}-{n},{site.code},{next_id_number()},{at.astimezone(CST).isoformat()},"
            f"in,{temperature},")


def _hours(session: Session, site: Site) -> dict[datetime, tuple[int, int]]:
    """What the dashboard counts for the site, by hour: (registrations, fevers)."""
    counted: dict[datetime, tuple[int, int]] = {}
    for table in (RegistrationHour, RegistrationHourDelta):
        for hour, n, fevers in session.execute(
                select(table.hour, func.sum(table.n), func.sum(table.fevers))
                .where(table.site_id == site.id).group_by(table.hour)):
            was = counted.get(hour.astimezone(UTC), (0, 0))
            counted[hour.astimezone(UTC)] = (was[0] + int(n), was[1] + int(fevers))
    return counted


def _tables(session: Session, run: str) -> dict[str, str]:
    """The partition each imported row is stored in, by external id (PostgreSQL)."""
    return dict(session.execute(text(
        "SELECT external_id, tableoid::regclass::text FROM registrations "
        "WHERE external_id LIKE :run"), {"run": f"{run}-%"}).all())


def test_imported_rows_count_in_the_dashboard_hours(session, rt):
    site, run = _venue(session), uuid7().hex
    hour = (utcnow() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    old = hour - timedelta(days=10)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # the recent rows' day partitions exist, as the job runner keeps them
        partitions.create_ahead(session, today=(hour + timedelta(hours=1)).date(),
                                days_ahead=0, since=hour.date())
        session.commit()
    lines = [_line(run, 1, site, hour + timedelta(minutes=5), "36.5"),
             _line(run, 2, site, hour + timedelta(minutes=10), "37.5"),
             _line(run, 3, site, hour + timedelta(minutes=59)),
             _line(run, 4, site, hour + timedelta(hours=1, minutes=1), "38.0"),
             _line(run, 5, site, old + timedelta(minutes=1), "38.2")]
    done = _load(session, rt, lines)
    assert (done.imported, done.refused) == (5, 0), done.problems

    counted = _hours(session, site)
    assert counted[hour] == (3, 1)
    assert counted[hour + timedelta(hours=1)] == (1, 1)
    if postgres:
        # Older than the dashboard keeps: its fold would drop the count at once.
        assert old not in counted
        assert rollup.fold(session) > 0
        session.commit()
        assert _hours(session, site) == {hour: (3, 1), hour + timedelta(hours=1): (1, 1)}
        stored = _tables(session, run)
        assert stored[f"{run}-1"] == partitions.partition_name(hour.date())
        assert stored[f"{run}-4"] == partitions.partition_name(
            (hour + timedelta(hours=1, minutes=1)).date())
        assert stored[f"{run}-5"] == partitions.DEFAULT


def test_imported_rows_stamped_ahead_wait_for_their_moment(session, rt):
    # A register from a device whose clock ran fast (accepted up to a day ahead): the
    # dashboard must not count such a row in its hour before its time comes, so the
    # import keeps it apart by its exact time, as the registrations' trigger does.
    site, run = _venue(session), uuid7().hex
    now = utcnow()
    ahead = [now + timedelta(minutes=30), now + timedelta(hours=3)]
    done = _load(session, rt, [_line(run, 1, site, ahead[0], "38.0"),
                               _line(run, 2, site, ahead[1]),
                               _line(run, 3, site, now - timedelta(minutes=1))])
    assert (done.imported, done.refused) == (3, 0), done.problems

    kept = session.execute(select(RegistrationAhead.at, RegistrationAhead.n,
                                  RegistrationAhead.fevers)
                           .where(RegistrationAhead.site_id == site.id)
                           .order_by(RegistrationAhead.at)).all()
    # Times as stored (the CSV's offset form keeps microseconds).
    assert [(at.astimezone(UTC), n, f) for at, n, f in kept] == [
        (ahead[0], 1, 1), (ahead[1], 1, 0)]
    assert sum(n for n, _ in _hours(session, site).values()) == 1


def test_the_import_keeps_the_hours_the_dashboard_keeps():
    assert imports.HOURS_KEPT == rollup.KEEP


def test_a_partition_made_during_the_import_gets_its_rows(session, rt, monkeypatch):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    site, run = _venue(session), uuid7().hex
    day = (utcnow() - timedelta(days=5)).date()
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    # The import listed the partitions before that day's was made.
    routes = imports._Routes()
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        assert routes.targets(session, cur, day, day) == [(partitions.DEFAULT, "")]
    partitions.create_ahead(session, today=day, days_ahead=0, since=day)
    session.commit()
    monkeypatch.setattr(imports, "_Routes", lambda: routes)

    done = _load(session, rt, [_line(run, n, site, at + timedelta(minutes=n))
                               for n in range(5)])
    assert (done.imported, done.unchanged, done.refused) == (5, 0, 0), done.problems
    assert set(_tables(session, run).values()) == {partitions.partition_name(day)}
    assert session.scalar(select(func.count()).select_from(Registration).where(
        Registration.external_id.like(f"{run}-%"))) == 5
    # Listed again after the first chunk found them changed: the next went straight in.
    assert routes.days is not None and day in routes.days


def test_a_role_that_may_not_write_a_partition_itself_still_imports(session, rt):
    """The application's role holds its privileges on registrations; a partition made by
    a role whose default privileges do not reach it grants it nothing of its own."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("roles and partitions are PostgreSQL's")
    site, run = _venue(session), uuid7().hex
    role = f"pt_import_{uuid7().hex[-12:]}"  # made and dropped with the test's transaction
    for statement in (
            f"CREATE ROLE {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            f"REVOKE INSERT ON {partitions.DEFAULT} FROM {role}",
            f"SET LOCAL ROLE {role}"):
        session.execute(text(statement))
    at = utcnow() - timedelta(days=40)
    done = _load(session, rt, [_line(run, n, site, at + timedelta(minutes=n))
                               for n in range(5)])
    assert (done.imported, done.refused) == (5, 0), done.problems
    session.execute(text("RESET ROLE"))
    assert set(_tables(session, run).values()) == {partitions.DEFAULT}
