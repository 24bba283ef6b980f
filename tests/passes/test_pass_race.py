"""Two officials deciding the same pass at the same moment: exactly one wins."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from passtrace.core.db import make_sessionmaker
from passtrace.core.errors import InvalidState
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass
from tests.passes.test_race_support import committed_pending_pass, delete_pass


def test_concurrent_approve_and_reject_leave_one_decision(db_engine, rt):
    # PostgreSQL: the row lock makes the loser see the decision (409).
    # SQLite: one writer at a time; the loser is refused as busy (503, retry -> 409).
    loser = "conflict" if db_engine.dialect.name == "postgresql" else ("conflict", "busy")
    factory = make_sessionmaker(db_engine)  # real commits, outside the test transaction
    pass_id, official = committed_pending_pass(factory, rt)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(action: str) -> None:
        with factory() as session:
            barrier.wait()
            try:
                if action == "approve":
                    pass_service.approve(session=session, rt=rt, actor=official,
                                         pass_id=pass_id)
                else:
                    pass_service.reject(session=session, actor=official, pass_id=pass_id,
                                        reason="同时拒绝")
                session.commit()
                outcomes.append(action)
            except InvalidState:
                session.rollback()
                outcomes.append("conflict")
            except OperationalError as exc:
                session.rollback()
                outcomes.append("busy" if "locked" in str(exc) else f"error: {exc!r}")
            except Exception as exc:  # noqa: BLE001 - record it; the assertion shows it
                session.rollback()
                outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=decide, args=(a,)) for a in ("approve", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    try:
        winners = [o for o in outcomes if o in ("approve", "reject")]
        losers = [o for o in outcomes if o not in winners]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert losers[0] in loser, outcomes
        with Session(db_engine) as s:
            final = s.get(Pass, uuid.UUID(str(pass_id)))
            assert final.status == ("approved" if "approve" in outcomes else "rejected")
    finally:
        delete_pass(factory, pass_id)
