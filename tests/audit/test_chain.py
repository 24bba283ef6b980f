"""The audit log is a hash chain: every change, removal or insertion is found."""

from __future__ import annotations

import contextlib
import threading
import uuid

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from passtrace.audit import chain
from passtrace.audit import service as audit_service
from passtrace.audit import verify as chain_verify
from passtrace.audit.models import AuditEntry
from passtrace.core import migrate
from passtrace.core.db import make_engine, make_sessionmaker
from tests.audit.helpers import audit_command, lift_append_only, two_writers


def _record_three(session: Session) -> list[AuditEntry]:
    entries = [audit_service.record(session=session, actor=None, action="test.one",
                                    resource_type="test", detail={"n": n, "k": (1, 2)})
               for n in range(2)]
    audit_service.record_many(session=session, actor=None, entries=[
        {"action": "test.many", "resource_type": "test", "subject_person_id": uuid.uuid4()}])
    entries.append(session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first())
    return entries


def test_each_entry_carries_the_previous_hash_and_the_chain_verifies(session):
    first, second, third = _record_three(session)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert [first.seq + 1, first.seq + 2] == [second.seq, third.seq]
    session.expire_all()  # read back what the database stored, not what we wrote
    outcome = chain_verify.verify(session=session)
    assert outcome.broken is None
    assert outcome.head_seq == third.seq and outcome.head_hash == third.hash


def test_a_changed_entry_is_the_first_break(session):
    first, second, _ = _record_three(session)
    lift_append_only(session)
    session.execute(text("UPDATE audit_entries SET reason = 'nothing to see' WHERE id = :i"),
                    {"i": second.id})
    broken = chain_verify.verify(session=session).broken
    assert broken is not None
    assert (broken.entry_id, broken.position) == (second.id, second.seq)
    assert "changed after it was written" in broken.problem


def test_a_removed_entry_breaks_the_chain_at_the_next_one(session):
    _, second, third = _record_three(session)
    lift_append_only(session)
    session.execute(text("DELETE FROM audit_entries WHERE id = :i"), {"i": second.id})
    broken = chain_verify.verify(session=session).broken
    assert broken is not None and broken.entry_id == third.id
    assert "missing" in broken.problem


def test_a_rehashed_entry_breaks_the_link_after_it(session):
    # A forger who recomputes the changed entry's own hash still breaks the next link.
    _, second, third = _record_three(session)
    lift_append_only(session)
    fields = {c: getattr(second, c) for c in chain.HASHED_FIELDS}
    fields["reason"] = "forged"
    session.execute(text("UPDATE audit_entries SET reason = 'forged', hash = :h WHERE id = :i"),
                    {"h": chain.entry_hash(fields, second.prev_hash), "i": second.id})
    broken = chain_verify.verify(session=session).broken
    assert broken is not None and broken.entry_id == third.id
    assert "prev_hash" in broken.problem


def test_two_writers_at_once_both_land_on_one_chain(db_engine, monkeypatch):
    # The race in chain.lock_head: both read the same head and append after it. The
    # barrier holds each writer after it read the head until the other has read it too;
    # with the lock the second cannot read until the first commits, so the barrier
    # times out and both go on in turn.
    barrier = threading.Barrier(2, timeout=3)
    read_head = chain.read_head

    def read_then_wait(session: Session) -> tuple[int, str]:
        head = read_head(session)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return head

    monkeypatch.setattr(chain, "read_head", read_then_wait)
    factory = make_sessionmaker(db_engine)  # real commits, outside the test transaction
    outcomes = two_writers(factory, lambda s, n: audit_service.record(
        session=s, actor=None, action="test.race", resource_type="test", resource_id=str(n)))
    assert outcomes == ["ok", "ok"], outcomes
    with Session(db_engine) as s:
        assert chain_verify.verify(session=s).broken is None


def _old_rows(engine) -> None:  # type: ignore[no-untyped-def]
    """Entries written before the chain existed (revision 0005's columns only)."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_entries (at, actor_name, action, resource_type, resource_id, "
            "detail) VALUES ('2026-11-30 08:00:00.123456+00:00', 'old', 'pass.view', 'pass', "
            "'p1', '{\"b\": 1, \"a\": [1, 2]}'), ('2026-11-30 09:00:00+00:00', 'old', "
            "'person.reveal', 'person', 'x', '{}')"))


def test_the_migration_chains_existing_entries_and_keeps_the_log_append_only(fresh_url):
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine, "0005")
        _old_rows(engine)
        migrate.upgrade(engine)
        with Session(engine) as s:
            outcome = chain_verify.verify(session=s)
            assert outcome.broken is None and outcome.checked == 2
            seqs = s.scalars(select(AuditEntry.seq).order_by(AuditEntry.id)).all()
            assert seqs == [1, 2]
        statements = ["UPDATE audit_entries SET reason = 'x'", "DELETE FROM audit_entries"]
        if engine.dialect.name == "postgresql":
            statements.append("TRUNCATE audit_entries")
        for statement in statements:
            with engine.connect() as conn:
                try:
                    conn.execute(text(statement))
                except Exception as exc:  # noqa: BLE001 - the message is checked
                    assert "append-only" in str(exc), statement
                else:
                    raise AssertionError(f"{statement} was allowed")
    finally:
        engine.dispose()


def test_audit_verify_command_exits_1_and_names_the_first_break(fresh_url, monkeypatch):
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as s:
            entries = _record_three(s)
            s.commit()
        ok = audit_command(fresh_url, monkeypatch, "verify")
        assert ok.exit_code == 0, ok.output
        assert "intact: 3 entries" in ok.output and entries[-1].hash in ok.output
        with Session(engine) as s:
            lift_append_only(s)
            s.execute(insert(AuditEntry).values(
                at=entries[0].at, actor_name="forger", action="person.reveal",
                resource_type="person", resource_id="", detail={},
                seq=entries[-1].seq + 1, prev_hash="f" * 64, hash="e" * 64))
            s.execute(text("UPDATE audit_entries SET actor_name = 'nobody' WHERE id = :i"),
                      {"i": entries[1].id})
            s.commit()
        broken = audit_command(fresh_url, monkeypatch, "verify")
        assert broken.exit_code == 1, broken.output
        assert f"entry id {entries[1].id}, position {entries[1].seq}" in broken.output
    finally:
        engine.dispose()


def test_an_append_waits_for_the_writer_before_it_and_links_to_its_entry(db_engine):
    # The race in service.locked_execute: a second append while the first one's
    # transaction is still open must read the head that one commits. If the lock were
    # taken inside the appending statement (or not at all), the second would read the
    # head from before the first committed and collide on its position.
    factory = make_sessionmaker(db_engine)  # real commits, outside the test transaction
    appended, outcomes = threading.Event(), []

    def first() -> None:
        with factory() as s:
            audit_service.append(session=s, actor=None, action="test.race",
                                 resource_type="test", resource_id="first")
            appended.set()
            threading.Event().wait(0.5)  # the second is waiting (or, unlocked, has read)
            s.commit()

    def second() -> None:
        appended.wait(10)
        with factory() as s:
            try:
                audit_service.append(session=s, actor=None, action="test.race",
                                     resource_type="test", resource_id="second")
                s.commit()
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001 - recorded; the assertion shows it
                s.rollback()
                outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == ["ok"], outcomes
    with Session(db_engine) as s:
        assert chain_verify.verify(session=s).broken is None
        last_two = s.scalars(select(AuditEntry.resource_id).where(AuditEntry.lane == 0)
                             .order_by(AuditEntry.seq.desc()).limit(2)).all()
    assert last_two == ["second", "first"]
