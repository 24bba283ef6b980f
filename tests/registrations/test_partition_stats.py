"""After a large upload, the job runner's ANALYZE keeps a check's look-back to a few rows.

A person with thousands of moves at a site today (a batch of them committed at once, as
an offline upload does) is checked again: "already inside?" must read their newest move,
not every one of them. PostgreSQL does that only with statistics on the day partition
(partition_stats.py), which the job `registrations.analyze-partitions` keeps. SQLite
keeps one table and the job does nothing there.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text

from passtrace.core.ids import uuid7
from passtrace.registrations import fastpath, jobs, lookback, partition_stats, partitions
from passtrace.registrations.models import Registration
from tests.concurrency import is_postgres

MOVES = 3000  # one person's moves at one site in the last hours (a benchmark's resident)


def _upload(rt: Any, *, site_id: uuid.UUID, person_hash: str, moves: int = MOVES) -> None:
    """Commit `moves` allowed in/out registrations of one person at one site, today."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid7(),
            "site_id": site_id,
            "lane": "1",
            "device_key": "phone-1",
            "occurred_at": now - timedelta(seconds=moves - i),
            "received_at": now,
            "direction": ("in", "out")[i % 2],
            "method": "id_typed",
            "person_hash": person_hash,
            "person_masked": "张*",
            "id_last4": "1234",
            "decision": "allow",
            "reasons": [],
        }
        for i in range(moves)
    ]
    with rt.sessions() as session:
        session.execute(insert(Registration), rows)
        if is_postgres(rt):
            # Counted for the job at this commit, not up to 10 s later (PostgreSQL 15
            # flushes a backend's table counts at most once a second, or when idle).
            session.execute(text("SELECT pg_stat_force_next_flush()"))
        session.commit()


def _look_back_rows(rt: Any, *, site_id: uuid.UUID, person_hash: str) -> int:
    """Rows the check's read (by typed ID number) takes from registrations to answer."""
    now = datetime.now(UTC)
    since = now - timedelta(hours=12)
    params = (uuid7(), site_id, person_hash, since, lookback.ids_from(since), person_hash, now)
    raw = rt.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + fastpath._LOOKUP_BY_HASH, params)
        plan = cur.fetchone()[0]
        raw.rollback()
    finally:
        raw.close()
    found = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name", "").startswith(partitions.PREFIX) and (
            node.get("Index Name", "").endswith("person_hash_site_id_occurred_at_idx")
        ):
            found.append(node["Actual Rows"] * node["Actual Loops"])
        for child in node.get("Plans", ()):
            walk(child)

    walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    assert found, "the look-back no longer reads the (person, site, time) index"
    return sum(found)


def _today(rt: Any) -> str:
    with rt.sessions() as session:
        return str(
            session.scalar(
                text("SELECT tableoid::regclass::text FROM registrations ORDER BY id DESC LIMIT 1")
            )
        )


def _rows_then(rt: Any, name: str) -> int:
    """How many rows the partition had at its last ANALYZE."""
    with rt.sessions() as session:
        return int(
            session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :n"), {"n": name})
        )


def test_after_a_large_upload_a_check_reads_the_newest_move_only(committed_rt, monkeypatch):
    if not is_postgres(committed_rt):
        assert jobs.analyze_partitions(committed_rt) == []  # one table: nothing to do
        return
    # Whenever the partition was analysed last (autovacuum, where it runs, may have).
    monkeypatch.setattr(partition_stats, "AGAIN_AFTER", "0 seconds")
    site_id, person_hash = uuid.uuid4(), uuid.uuid4().hex * 2
    _upload(committed_rt, site_id=site_id, person_hash=person_hash)
    today = _today(committed_rt)  # its statistics still describe it before the upload
    assert today.startswith(partitions.PREFIX)

    assert today in jobs.analyze_partitions(committed_rt)

    assert _look_back_rows(committed_rt, site_id=site_id, person_hash=person_hash) <= 2
    assert today not in jobs.analyze_partitions(committed_rt)  # analysed: not again


def test_a_partition_filling_fast_waits_a_minute_unless_it_doubled(committed_rt, monkeypatch):
    if not is_postgres(committed_rt):
        pytest.skip("SQLite keeps registrations in one table")
    site_id = uuid.uuid4()
    _upload(committed_rt, site_id=site_id, person_hash=uuid.uuid4().hex * 2)
    today = _today(committed_rt)
    with monkeypatch.context() as now_at_once:  # analysed now, whenever it was before
        now_at_once.setattr(partition_stats, "AGAIN_AFTER", "0 seconds")
        assert today in jobs.analyze_partitions(committed_rt)
    then = _rows_then(committed_rt, today)
    share = int(partition_stats.MIN_CHANGED + partition_stats.SHARE_CHANGED * then) + 10
    _upload(committed_rt, site_id=site_id, person_hash=uuid.uuid4().hex * 2, moves=share)

    assert today not in jobs.analyze_partitions(committed_rt)  # stale, but just analysed

    _upload(
        committed_rt,
        site_id=site_id,
        person_hash=uuid.uuid4().hex * 2,
        moves=then + partition_stats.MIN_CHANGED - share + 10,
    )
    assert today in jobs.analyze_partitions(committed_rt)  # doubled: at once


def test_a_partition_dropped_after_it_was_listed_does_not_stop_the_others(
    committed_rt, monkeypatch
):
    if not is_postgres(committed_rt):
        pytest.skip("SQLite keeps registrations in one table")
    monkeypatch.setattr(partition_stats, "AGAIN_AFTER", "0 seconds")
    _upload(committed_rt, site_id=uuid.uuid4(), person_hash=uuid.uuid4().hex * 2)
    today = _today(committed_rt)
    listed = partition_stats.stale
    gone = partitions.PREFIX + "19990101"  # retention dropped it between list and ANALYZE
    monkeypatch.setattr(partition_stats, "stale", lambda session: [gone, *listed(session)])

    done = jobs.analyze_partitions(committed_rt)
    assert today in done and gone not in done
