"""Side lanes of the audit chain: hot-path entries chain on lanes of their own, anchored
on the main chain, and `audit verify` finds every change, removal or rewrite there too."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from passtrace.audit import chain, lanes
from passtrace.audit import service as audit_service
from passtrace.audit import verify as chain_verify
from passtrace.audit.models import AuditEntry
from passtrace.core.db import make_sessionmaker
from tests.audit.helpers import audit_command, lift_append_only, two_writers


def _side_entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.lane > 0)
                                .order_by(AuditEntry.lane, AuditEntry.seq)))


def _issue_three(session: Session) -> list[AuditEntry]:
    """Three hot-path entries, in lane order: only these (race tests on this database
    commit entries of their own, outside the test transaction)."""
    known = {e.id for e in _side_entries(session)}
    for n in range(3):
        lanes.append(session=session, actor=None, action="test.hot", resource_type="test",
                     resource_id=str(n), detail={"n": n})
    session.flush()
    return [e for e in _side_entries(session) if e.id not in known]


def test_side_lane_entries_chain_per_lane_and_verify_with_the_main_chain(session):
    # Entries committed by other tests may be here already: count on from them.
    before = chain_verify.verify(session=session)
    audit_service.record(session=session, actor=None, action="test.main", resource_type="test")
    side = _issue_three(session)
    assert len(side) == 3 and all(1 <= e.lane <= chain.LANES for e in side)
    for lane in {e.lane for e in side}:
        own = [e for e in side if e.lane == lane]
        prior_seq, prior_hash = before.side_heads.get(lane, (0, chain.GENESIS))
        assert [e.seq for e in own] == list(range(prior_seq + 1, prior_seq + 1 + len(own)))
        assert own[0].prev_hash == prior_hash
        assert all(b.prev_hash == a.hash for a, b in zip(own, own[1:], strict=False))
    session.expire_all()
    outcome = chain_verify.verify(session=session)
    assert outcome.broken is None and outcome.checked == before.checked + 4
    assert outcome.side_heads == {**before.side_heads,
                                  **{e.lane: (e.seq, e.hash) for e in side}}


def test_an_anchor_lists_the_side_heads_once_until_they_move(session):
    prior = set(lanes.side_heads(session))  # lanes other tests committed to, if any
    side = _issue_three(session)
    assert lanes.anchor(session) == len(prior | {e.lane for e in side})  # every lane's head
    assert lanes.anchor(session) == 0  # nothing moved: no second anchor
    anchor = session.scalars(select(AuditEntry).where(
        AuditEntry.action == lanes.ANCHOR_ACTION).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert anchor.lane == chain.MAIN_LANE
    assert lanes.parse_anchor(anchor.detail) == lanes.side_heads(session)
    _issue_three(session)
    assert lanes.anchor(session) > 0
    assert chain_verify.verify(session=session).broken is None


def test_a_changed_side_entry_is_the_first_break(session):
    side = _issue_three(session)
    lift_append_only(session)
    session.execute(text("UPDATE audit_entries SET resource_id = 'other' WHERE id = :i"),
                    {"i": side[1].id})
    broken = chain_verify.verify(session=session).broken
    assert broken is not None and broken.entry_id == side[1].id
    assert "changed after it was written" in broken.problem


def test_an_entry_moved_to_another_lane_is_found(session):
    # The lane is in a side entry's hash: moving it (with its position) shows.
    lanes.append(session=session, actor=None, action="test.hot", resource_type="test")
    entry = _side_entries(session)[0]
    lift_append_only(session)
    other = 1 if entry.lane != 1 else 2
    session.execute(text("UPDATE audit_entries SET lane = :l WHERE id = :i"),
                    {"l": other, "i": entry.id})
    broken = chain_verify.verify(session=session).broken
    assert broken is not None and broken.entry_id == entry.id


def test_a_side_lane_cut_short_after_its_anchor_is_found(session):
    # A tail removed from a side lane leaves a valid-looking lane; the anchor shows it.
    side = _issue_three(session)
    lanes.anchor(session)
    last = side[-1]
    lift_append_only(session)
    session.execute(text("DELETE FROM audit_entries WHERE id = :i"), {"i": last.id})
    broken = chain_verify.verify(session=session).broken
    assert broken is not None
    assert f"side lane {last.lane}" in broken.problem and "removed" in broken.problem


def test_a_side_lane_rewritten_consistently_is_found_by_its_anchor(session):
    # A forger who rewrites a lane's last entry and recomputes its hash keeps the lane
    # consistent; the anchor recorded the hash before.
    side = _issue_three(session)
    lanes.anchor(session)
    last = side[-1]
    fields = {c: getattr(last, c) for c in (*chain.HASHED_FIELDS, "lane")}
    fields["resource_id"] = "forged"
    lift_append_only(session)
    session.execute(text("UPDATE audit_entries SET resource_id = 'forged', hash = :h "
                         "WHERE id = :i"), {"h": chain.entry_hash(fields, last.prev_hash),
                                            "i": last.id})
    broken = chain_verify.verify(session=session).broken
    assert broken is not None and broken.entry_id == last.id
    assert "anchor" in broken.problem


@pytest.mark.parametrize("one_lane", [True, False], ids=["one-lane", "all-lanes"])
def test_concurrent_hot_writers_all_land_on_intact_lanes(db_engine, monkeypatch, one_lane):
    # The race in lanes.take_lane: two writers extending one lane from the same head.
    # With a single lane both must use it: the barrier holds each writer after it took
    # the lane until the other has too; with the lock the second cannot take it until
    # the first commits, so the barrier times out and they go in turn. With every lane,
    # writers take free lanes and nobody waits.
    if one_lane:
        monkeypatch.setattr(chain, "LANES", 1)
    barrier = threading.Barrier(2, timeout=2)
    take_lane, sqlite_lane = lanes.take_lane, lanes.sqlite_lane

    def hold(original):  # type: ignore[no-untyped-def]
        def took(arg):  # type: ignore[no-untyped-def]
            lane = original(arg)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
            return lane
        return took

    monkeypatch.setattr(lanes, "take_lane", hold(take_lane))
    monkeypatch.setattr(lanes, "sqlite_lane", hold(sqlite_lane))
    factory = make_sessionmaker(db_engine)  # real commits, outside the test transaction
    with factory() as s:
        before = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    outcomes = two_writers(factory, lambda s, n: lanes.append(
        session=s, actor=None, action="test.race", resource_type="test", resource_id=str(n)))
    assert outcomes == ["ok", "ok"], outcomes
    with Session(db_engine) as s:
        written = list(s.scalars(select(AuditEntry).where(AuditEntry.id > before)))
        assert len(written) == 2 and all(e.lane >= 1 for e in written)
        if one_lane:
            assert {e.lane for e in written} == {1}
        elif s.get_bind().dialect.name == "postgresql":
            assert len({e.lane for e in written}) == 2  # each took a free lane
        assert chain_verify.verify(session=s).broken is None


def test_audit_anchor_and_verify_commands_show_the_side_lanes(fresh_url, monkeypatch):
    from passtrace.core import migrate
    from passtrace.core.db import make_engine

    engine = make_engine(fresh_url)
    migrate.upgrade(engine)
    with Session(engine) as s:
        _issue_three(s)
        s.commit()
        lane = _side_entries(s)[0].lane
    anchored = audit_command(fresh_url, monkeypatch, "anchor")
    assert anchored.exit_code == 0 and "anchored" in anchored.output
    result = audit_command(fresh_url, monkeypatch, "verify")
    assert result.exit_code == 0, result.output
    assert "intact: 4 entries" in result.output and f"side lane {lane}:" in result.output
    engine.dispose()
