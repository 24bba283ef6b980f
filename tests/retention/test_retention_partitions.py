"""Registrations by day (PostgreSQL): rows land in their id's day, retention drops whole
old days with a receipt and deletes the rest by occurred_at, partitions are made ahead
once however many runners race, and the migration moves a table that holds rows.

SQLite keeps one table: what is shared (imports' idempotency by external id, the
migration with rows present) runs on both databases.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import passtrace.models  # noqa: F401 - every table, for the ORM inserts
from passtrace.audit.models import AuditEntry
from passtrace.core import migrate
from passtrace.core.clock import utcnow
from passtrace.core.db import make_engine
from passtrace.core.ids import uuid7
from passtrace.registrations import imports, partitions
from passtrace.registrations.models import Registration, RegistrationExternalId
from passtrace.retention import service
from tests.concurrency import is_postgres, race
from tests.conftest import next_id_number
from tests.retention.helpers import site

BEFORE = "c5e1a7f3b914"


def _id_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 made at `moment` (a device whose clock said so)."""
    ms = int(moment.timestamp() * 1000)
    return uuid.UUID(int=ms << 80 | 0x7 << 76 | 0b10 << 62 | int.from_bytes(os.urandom(7), "big"))


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _reg(session: Session, site_id: uuid.UUID, rid: uuid.UUID, when: datetime) -> uuid.UUID:
    session.add(Registration(id=rid, site_id=site_id, lane="1", device_key="dev",
                             occurred_at=when, received_at=when, direction="in",
                             method="qr", decision="allow", person_masked="张*",
                             id_last4="1234"))
    return rid


def _where(session: Session, rid: uuid.UUID) -> str:
    return str(session.scalar(text("SELECT tableoid::regclass::text FROM registrations "
                                   "WHERE id = :id"), {"id": rid}))


def _pg_only(session: Session) -> None:
    if not partitions.is_partitioned(session):
        pytest.skip("SQLite keeps registrations in one table")


def test_retention_drops_whole_old_days_and_deletes_the_rest_by_occurrence(rt, session):
    _pg_only(session)
    today = utcnow().date()
    d40, d39, d38 = (today - timedelta(days=n) for n in (40, 39, 38))
    assert partitions.create_ahead(session, today=d40, days_ahead=2) == [
        partitions.partition_name(d) for d in (d40, d39, d38)]
    spot = site(session)
    ancient = datetime(2020, 1, 1, tzinfo=UTC)  # an id no day partition covers
    gone_whole = [_reg(session, spot.id, _id_at(_noon(d)), _noon(d)) for d in (d40, d39)]
    # A device whose clock was 38 days behind when it made the id: the row occurred
    # today, so its day is not dropped; the day's really old row goes in a batch.
    straggler = _reg(session, spot.id, _id_at(_noon(d38)), utcnow())
    old_of_d38 = _reg(session, spot.id, _id_at(_noon(d38)), _noon(d38))
    old_in_default = _reg(session, spot.id, _id_at(ancient), _noon(today - timedelta(days=50)))
    new_in_default = _reg(session, spot.id, _id_at(ancient), utcnow())
    new = _reg(session, spot.id, uuid7(), utcnow())
    # Past the period by less than its day: kept until its whole day is (the batches do
    # not eat into the day the cutoff falls in, or the drop would find it empty).
    cutoff = utcnow() - timedelta(days=rt.settings.retention_days)
    day_of_cutoff = partitions.day_start(cutoff)
    partitions.create_ahead(session, today=day_of_cutoff.date(), days_ahead=0)
    late_in_day = _reg(session, spot.id, _id_at(day_of_cutoff + timedelta(seconds=1)),
                       day_of_cutoff + timedelta(seconds=1))
    session.commit()
    assert _where(session, gone_whole[0]) == partitions.partition_name(d40)
    assert _where(session, new) == partitions.partition_name(today)
    assert _where(session, new_in_default) == partitions.DEFAULT

    stats = service.run(sessions=rt.sessions, settings=rt.settings, trigger="cli")

    assert stats.dropped == [partitions.partition_name(d40), partitions.partition_name(d39)]
    assert stats.deleted["registrations"] == 4  # two dropped with their day, two in batches
    session.expire_all()
    kept = set(session.scalars(select(Registration.id).where(Registration.site_id == spot.id)))
    assert kept == {straggler, new, new_in_default, late_in_day}
    assert old_of_d38 not in kept and old_in_default not in kept
    names = {p.name for p in partitions.partitions(session)}
    assert partitions.partition_name(d40) not in names
    assert partitions.partition_name(d38) in names
    receipts = [e.detail for e in session.scalars(select(AuditEntry).where(
        AuditEntry.action == service.RECEIPT_ACTION))
        if e.detail.get("run_id") == str(stats.run_id)]
    dropped = {r["partition"]: r for r in receipts if r.get("method") == "drop partition"}
    assert set(dropped) == set(stats.dropped)
    assert dropped[partitions.partition_name(d40)]["rows"] == 1
    assert dropped[partitions.partition_name(d40)]["oldest"] == _noon(d40).isoformat()
    # `retention status`: the day kept for its straggler, and until when.
    line = next(p for p in service.partition_status(session=session, settings=rt.settings)
                if p.day == d38)
    assert line.rows == 1
    assert line.drop_due == datetime.combine(d38 + timedelta(days=1), time(), tzinfo=UTC) \
        + timedelta(days=rt.settings.retention_days)

    again = service.run(sessions=rt.sessions, settings=rt.settings, trigger="cli")
    assert again.dropped == [] and again.deleted["registrations"] == 0


def test_a_day_made_after_its_rows_arrived_takes_them_from_the_default_partition(rt, session):
    _pg_only(session)
    ahead = utcnow().date() + timedelta(days=300)  # a device clock far ahead
    spot = site(session)
    rid = _reg(session, spot.id, _id_at(_noon(ahead)), utcnow())
    session.commit()
    assert _where(session, rid) == partitions.DEFAULT
    assert partitions.create_ahead(session, today=ahead, days_ahead=0) == [
        partitions.partition_name(ahead)]
    assert _where(session, rid) == partitions.partition_name(ahead)
    # Made once: a second call finds it there.
    assert partitions.create_ahead(session, today=ahead, days_ahead=0) == []


def test_two_runners_make_each_day_partition_once(committed_rt):
    if not is_postgres(committed_rt):
        pytest.skip("SQLite keeps registrations in one table")
    # Days of their own (far ahead), dropped at the end: the database is shared.
    first = date(2031, 1, 1) + timedelta(days=int(uuid.uuid4().int % 3000))
    made: list[list[str]] = []

    def ahead(session: Session) -> None:
        made.append(partitions.create_ahead(session, today=first, days_ahead=3))

    try:
        assert race(committed_rt, ahead, ahead) == ["ok", "ok"]
        wanted = [partitions.partition_name(first + timedelta(days=n)) for n in range(4)]
        assert sorted(made[0] + made[1]) == sorted(wanted)  # each made by one runner only
        with committed_rt.sessions() as session:
            names = [p.name for p in partitions.partitions(session)]
            assert all(names.count(n) == 1 for n in wanted)
            assert partitions.create_ahead(session, today=first, days_ahead=3) == []
    finally:
        with committed_rt.sessions() as session:
            for n in range(4):
                name = partitions.partition_name(first + timedelta(days=n))
                session.execute(text(f"DROP TABLE IF EXISTS {name}"))
            session.commit()


def test_two_runners_dropping_at_once_drop_and_receipt_each_day_once(committed_rt):
    if not is_postgres(committed_rt):
        pytest.skip("SQLite keeps registrations in one table")
    first = date(2019, 1, 1) + timedelta(days=int(uuid.uuid4().int % 300))
    days = [first + timedelta(days=n) for n in range(3)]
    with committed_rt.sessions() as session:
        partitions.create_ahead(session, today=first, days_ahead=2)
        spot = site(session)
        for day in days:
            for _ in range(2):
                _reg(session, spot.id, _id_at(_noon(day)), _noon(day))
        session.commit()
    cutoff = datetime.combine(days[-1] + timedelta(days=1), time(), tzinfo=UTC)
    dropped: list[partitions.Dropped] = []

    def drop(_: Session) -> None:
        dropped.extend(service.drop_partitions(sessions=committed_rt.sessions, cutoff=cutoff,
                                               run_id=uuid7(), trigger="job"))

    assert race(committed_rt, drop, drop) == ["ok", "ok"]
    mine = [d for d in dropped if d.name in {partitions.partition_name(x) for x in days}]
    assert sorted(d.name for d in mine) == [partitions.partition_name(x) for x in days]
    assert sum(d.rows for d in mine) == 6  # each day's receipt written once
    with committed_rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Registration).where(
            Registration.site_id == spot.id)) == 0


def test_an_external_id_sent_again_with_another_time_is_not_stored_twice(rt, session):
    spot = site(session)
    session.commit()
    run, person = uuid7().hex, next_id_number()
    header = "external_id,site_code,id_number,occurred_at,direction\n"
    at = utcnow().replace(microsecond=0) - timedelta(days=1)

    def load(when: datetime) -> imports.RegistrationImport:
        data = f"{header}{run},{spot.code},{person},{when.isoformat()},in\n".encode()
        return imports.import_registrations(session=session, vault=rt.vault, actor=None,
                                            stream=io.BytesIO(data), commit=session.commit)

    assert load(at).imported == 1
    # Another day's id (the time part), so another partition on PostgreSQL: only the
    # external id's own key can tell it was stored.
    again = load(at - timedelta(days=3))
    assert (again.imported, again.unchanged) == (0, 1)
    session.expire_all()
    stored = session.scalars(select(Registration).where(Registration.external_id == run)).all()
    assert [r.occurred_at for r in stored] == [at]
    assert session.scalar(select(func.count()).select_from(RegistrationExternalId).where(
        RegistrationExternalId.external_id == run)) == 1


def test_the_migration_moves_a_table_holding_rows(fresh_url):
    engine = make_engine(fresh_url)
    postgres = engine.dialect.name == "postgresql"
    try:
        migrate.upgrade(engine, BEFORE)
        now = utcnow()
        with Session(engine) as session:
            spot = site(session)
            today_id = _reg(session, spot.id, uuid7(), now)
            old_id = _reg(session, spot.id, _id_at(datetime(2020, 1, 1, tzinfo=UTC)), now)
            session.flush()
            session.execute(text("UPDATE registrations SET external_id = 'ext-1' WHERE id = :i"),
                            {"i": old_id if postgres else old_id.hex})
            session.commit()

        migrate.upgrade(engine)

        with Session(engine) as session:
            ids = set(session.scalars(select(Registration.id)))
            assert ids == {today_id, old_id}
            key = session.get(RegistrationExternalId, "ext-1")
            assert key is not None and key.registration_id == old_id
            if postgres:
                assert _where(session, today_id) == partitions.partition_name(now.date())
                assert _where(session, old_id) == partitions.DEFAULT
                indexes = set(session.scalars(text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'registrations'")))
                assert {"pk_registrations", "ix_registrations_inside",
                        "ix_registrations_disagreement", "ix_registrations_occurred_at"} <= indexes
                # The keys were made again on the new table; at the head only
                # override_by's is left (d9a4c2e7f150 dropped site_id's and
                # operator_user_id's for batch-level checks).
                assert set(session.scalars(text(
                    "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                    "AND conrelid = 'registrations'::regclass"))) == {
                        "fk_registrations_override_by_users"}
                # The primary key still refuses the same id (the retried upload).
                dup = session.execute(text(
                    "INSERT INTO registrations SELECT * FROM registrations WHERE id = :i "
                    "ON CONFLICT (id) DO NOTHING RETURNING id"), {"i": today_id}).all()
                assert dup == []

        migrate.downgrade(engine, BEFORE)
        with Session(engine) as session:
            assert set(session.scalars(select(Registration.id))) == {today_id, old_id}
            if postgres:
                assert session.scalar(text(
                    "SELECT relkind FROM pg_class WHERE relname = 'registrations'")) == "r"
    finally:
        engine.dispose()
