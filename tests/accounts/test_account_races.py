"""Two-thread races on account changes (committed, both databases): the same second-factor
code sent twice at once, and two password changes made with the same old password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.accounts import admin, second_factor
from passtrace.accounts.models import User
from passtrace.audit.models import AuditEntry
from passtrace.core import clock
from tests.accounts.second_factor_helpers import Clock, code_at, enrol
from tests.concurrency import committed_persona, is_postgres, race
from tests.conftest import PASSWORD


@pytest.fixture
def frozen() -> Iterator[Clock]:
    yield Clock()
    clock.freeze(None)


def _accepted(outcomes: list[str], rt) -> bool:  # type: ignore[no-untyped-def]
    # PostgreSQL: the loser waits for the row lock, then finds the state the winner left.
    # SQLite: one writer at a time; the loser is refused as busy (the client retries).
    return sorted(outcomes) in (["Unauthorized", "ok"], ["ValidationFailed", "ok"]) or (
        not is_postgres(rt) and sorted(outcomes) == ["busy", "ok"])


def test_the_same_code_sent_twice_at_once_logs_in_once(committed_rt, committed_client,
                                                        frozen):
    rt = committed_rt
    me = committed_persona(rt, committed_client, role="official", scope_type="area",
                           scope_value="520102")
    with rt.sessions() as session:
        secret, _ = enrol(session, rt, me.principal, frozen.now)
    frozen.tick()
    code = code_at(secret, frozen.now)

    def check(session: Session) -> None:
        second_factor.check_code(session=session, rt=rt, user_id=me.user_id, code=code,
                                 ip="10.0.0.9")

    outcomes = race(rt, check, check)
    assert _accepted(outcomes, rt), outcomes
    assert outcomes.count("ok") == 1, outcomes


def test_two_password_changes_with_the_old_password_change_it_once(
        committed_rt, committed_client):
    rt = committed_rt
    me = committed_persona(rt, committed_client, role="public")

    def change_to(new: str):  # type: ignore[no-untyped-def]
        def change(session: Session) -> None:
            admin.change_password(session=session, rt=rt, actor=me.principal,
                                  current=PASSWORD, new=new, token=None)
        return change

    first, second = "amber-lantern-river-4", "copper-meadow-tide-9"
    outcomes = race(rt, change_to(first), change_to(second))
    # The second change checks the old password against the first one's new hash: it is
    # refused ("the current password is wrong"), never applied on a stale read.
    assert _accepted(outcomes, rt), outcomes
    winner = first if outcomes[0] == "ok" else second
    with rt.sessions() as session:
        user = session.get(User, me.user_id)
        assert rt.passwords.verify(user.password_hash, winner)
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "user.password_change",
            AuditEntry.resource_id == str(me.user_id))) == 1
