"""Two gates taking a household's last outing slot at the same moment: exactly one wins.

Runs on committed data in a database of its own (PostgreSQL, and SQLite for contrast),
with each gate in its own thread, session and transaction, as two gate phones would be.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Outing
from passtrace.communities.compounds.schemas import ResidentCreate, RulesWrite
from passtrace.core.db import make_sessionmaker
from passtrace.core.errors import DomainError
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.demo import demo_id_number
from passtrace.registrations import service as reg_service
from passtrace.registrations.schemas import RegistrationIn
from tests.concurrency import compound_with_gates, own_database

CODE = "520102006001"
GATES = ("GATE-R-N", "GATE-R-S")
ROUNDS = 8


@pytest.fixture(params=["postgresql", "sqlite"])
def deployed(request: pytest.FixtureRequest) -> Iterator[tuple[Runtime, Any, list[str]]]:
    """A compound with two gates and a household of 2 * ROUNDS residents, committed."""
    with own_database(request.param, "passtrace_race") as rt:
        with Session(rt.engine, expire_on_commit=False) as session:
            actor = compound_with_gates(session, rt, code=CODE, name="竞争小区", gates=GATES)
            ids = []
            for i in range(2 * ROUNDS):
                id_number = demo_id_number("520102", "19800101", f"{300 + i:03d}")
                community_service.add_resident(
                    session=session, rt=rt, actor=actor, code=CODE, data=ResidentCreate(
                        building="1", unit="1", room=f"{101 + i // 2}", id_number=id_number,
                        name="住户", role="family"))
                ids.append(id_number)
            community_service.set_rules(session=session, actor=actor, code=CODE,
                                        data=RulesWrite(max_out_per_household=1),
                                        reason_code="directive", reason="区防控办通知")
            session.commit()
        yield rt, actor, ids


def _go_out(rt: Runtime, actor: Any, gate: str, id_number: str, barrier: threading.Barrier,
            outcomes: list[str]) -> None:
    factory = make_sessionmaker(rt.engine)
    now = datetime.now(UTC)
    data = RegistrationIn(id=uuid7(), site=gate, lane="1", device_key=gate, occurred_at=now,
                          sent_at=now, direction="out", method="id_typed",
                          id_number=id_number, temperature=36.5)
    with factory() as session:
        barrier.wait()
        try:
            checked = reg_service.register(session=session, rt=rt, actor=actor, data=data)
            session.commit()
            outcomes.append(checked.row.decision if checked.row.decision == "allow"
                            else ",".join(checked.row.reasons))
        except OperationalError as exc:  # SQLite: one writer at a time -> 503, retry
            session.rollback()
            outcomes.append("busy" if "locked" in str(exc) else f"error: {exc!r}")
        except (DomainError, Exception) as exc:  # noqa: BLE001 - the assertion shows it
            session.rollback()
            outcomes.append(f"error: {exc!r}")


def test_two_gates_cannot_both_take_the_last_outing_slot(deployed):
    rt, actor, ids = deployed
    postgres = rt.engine.dialect.name == "postgresql"
    for r in range(ROUNDS):
        # Two members of one household (max 1 out at a time), one at each gate.
        barrier, outcomes = threading.Barrier(2), []
        threads = [threading.Thread(target=_go_out,
                                    args=(rt, actor, GATES[i], ids[2 * r + i], barrier,
                                          outcomes)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes)[0] == "allow", outcomes
        loser = sorted(outcomes)[1]
        # PostgreSQL: the second gate waits for the household lock, then sees the outing.
        # SQLite: it is refused as busy (the client retries and is then denied).
        assert loser == "household_out_limit" or (not postgres and loser == "busy"), outcomes
        with Session(rt.engine) as s:
            open_outings = s.scalar(select(func.count()).select_from(Outing).where(
                Outing.back_at.is_(None), Outing.person_id.is_not(None)))
        assert open_outings == r + 1, outcomes  # one per household, never two
