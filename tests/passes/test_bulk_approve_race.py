"""A bulk approval and a single approval of the same pass at once: approved exactly once."""

from __future__ import annotations

import contextlib
import threading
import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from passtrace.audit.models import AuditEntry
from passtrace.core.clock import utcnow
from passtrace.core.db import make_sessionmaker
from passtrace.core.errors import InvalidState
from passtrace.passes import review
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass
from tests.passes.test_race_support import committed_pending_pass, delete_pass


def _copy_pending(factory, pass_id: uuid.UUID, n: int) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """More pending passes of the same holder and scope (one official decides them all)."""
    ids = []
    with factory() as session:
        base = session.get(Pass, pass_id)
        for _ in range(n):
            p = Pass(id=uuid.uuid4(), person_id=base.person_id,
                     applicant_user_id=base.applicant_user_id, purpose="commute", reason="",
                     valid_from=base.valid_from, valid_until=base.valid_until,
                     areas=base.areas, sites=[], companions=0, area_prefix=base.area_prefix,
                     status="pending", created_at=utcnow())
            session.add(p)
            ids.append(p.id)
        session.commit()
    return ids


def test_bulk_and_single_approval_of_one_pass_approve_it_once(db_engine, rt, monkeypatch):
    factory = make_sessionmaker(db_engine)  # real commits, outside the test transaction
    contested, official = committed_pending_pass(factory, rt)
    others = _copy_pending(factory, contested, 2)
    batch = [*others, contested]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}
    # Hold each approval of the contested pass between its read and its write until the
    # other one has read it too. With the row lock the second cannot read it (it waits),
    # so the first goes on after the timeout; without it both would approve.
    both_read = threading.Barrier(2, timeout=3)
    sign = pass_service.sign

    def slow_sign(**kw):  # type: ignore[no-untyped-def]
        if kw["p"].id == contested:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
        return sign(**kw)

    monkeypatch.setattr(pass_service, "sign", slow_sign)

    def bulk() -> None:
        with factory() as session:
            barrier.wait()
            try:
                result = review.approve_many(session=session, rt=rt, actor=official,
                                             pass_ids=batch, reason="批量")
                session.commit()
                outcomes["bulk"] = result
            except OperationalError as exc:  # SQLite: one writer, the other is busy
                session.rollback()
                outcomes["bulk"] = "busy" if "locked" in str(exc) else repr(exc)

    def single() -> None:
        with factory() as session:
            barrier.wait()
            try:
                pass_service.approve(session=session, rt=rt, actor=official,
                                     pass_id=contested, reason="单独")
                session.commit()
                outcomes["single"] = "approved"
            except InvalidState:
                session.rollback()
                outcomes["single"] = "conflict"
            except OperationalError as exc:
                session.rollback()
                outcomes["single"] = "busy" if "locked" in str(exc) else repr(exc)

    threads = [threading.Thread(target=bulk), threading.Thread(target=single)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        with Session(db_engine) as s:
            approvals = s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "pass.approve",
                AuditEntry.resource_id == str(contested)))
            assert approvals == 1, outcomes
            assert s.get(Pass, contested).status == "approved"
        result = outcomes["bulk"]
        if outcomes["single"] == "approved":
            # The single approval won: the batch reports the contested pass, not silently.
            if isinstance(result, review.BulkResult):
                assert [pid for pid, _ in result.refused] == [contested], outcomes
                assert sorted(result.approved) == sorted(others)
            else:
                assert result == "busy" and db_engine.dialect.name == "sqlite", outcomes
        else:
            assert outcomes["single"] in ("conflict", "busy"), outcomes
            assert isinstance(result, review.BulkResult)
            assert sorted(result.approved) == sorted(batch) and result.refused == []
    finally:
        for pid in batch:
            delete_pass(factory, pid)
