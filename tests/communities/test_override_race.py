"""A guard's override racing a gate check of the same resident: no deadlock, one story.

The gate takes the household (or visit) row, then the audit chain's lock, then writes
the resident's outing rows. The override used to write the outing rows first and take
the chain lock after, for its audit entry: on PostgreSQL each transaction then waited
for the other and one was killed as a deadlock. Now both take the locks in one order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.communities.compounds.models import Outing
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.registrations import service as reg_service
from passtrace.registrations.schemas import RegistrationIn
from tests.communities.test_gate_race import GATES, deployed  # noqa: F401 - the fixture
from tests.concurrency import is_postgres, race

ROUNDS = 6


def _check(rt: Runtime, actor: Any, session: Session, gate: str, id_number: str,
           direction: str, temperature: float = 36.5) -> Any:
    now = datetime.now(UTC)
    data = RegistrationIn(id=uuid7(), site=gate, lane="1", device_key=gate, occurred_at=now,
                          sent_at=now, direction=direction, method="id_typed",
                          id_number=id_number, temperature=temperature)
    return reg_service.register(session=session, rt=rt, actor=actor, data=data).row


def test_an_override_and_a_gate_check_of_one_resident_never_deadlock(deployed):  # noqa: F811
    rt, actor, ids = deployed
    resident = ids[0]
    for r in range(ROUNDS):
        with rt.sessions() as s:
            assert _check(rt, actor, s, GATES[1], resident, "out").decision == "allow"
            s.commit()
        with rt.sessions() as s:
            # Back with a fever at the north gate: refused, and the guard will let them in.
            denied = _check(rt, actor, s, GATES[0], resident, "in", temperature=38.6)
            assert denied.decision == "deny", denied.reasons
            s.commit()
            denied_id = denied.id
        outcomes = race(
            rt,
            lambda s, denied_id=denied_id: reg_service.override(
                session=s, actor=actor, registration_id=denied_id,
                reason="复测体温正常"),
            lambda s: _check(rt, actor, s, GATES[1], resident, "in"))
        if is_postgres(rt):
            # Both wait their turn; neither is killed as a deadlock. (race() files
            # PostgreSQL's "deadlock detected ... blocked by process" under "busy".)
            assert outcomes == ["ok", "ok"], (r, outcomes)
        else:
            assert sorted(outcomes) in (["ok", "ok"], ["busy", "ok"]), (r, outcomes)
        with Session(rt.engine) as s:
            outings = s.execute(select(func.count(), func.count().filter(
                Outing.back_at.is_(None))).select_from(Outing)).one()
        # One outing per round, every one of them closed: the resident is back inside.
        assert tuple(outings) == (r + 1, 0), (r, outcomes, tuple(outings))
