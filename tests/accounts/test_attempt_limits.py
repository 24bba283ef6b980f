"""Sign-up and binding limits: an attempt counts even when it is the one refused."""

from __future__ import annotations

from passtrace.accounts import attempts
from passtrace.core.errors import RateLimited
from tests.conftest import next_id_number


def _try(session, rt, ip: str, id_number: str | None) -> bool:  # type: ignore[no-untyped-def]
    """One attempt as a request makes it: a refusal rolls the request back."""
    try:
        attempts.check(session=session, vault=rt.vault, ip=ip, id_number=id_number)
    except RateLimited:
        session.rollback()
        return False
    return True


def test_attempts_refused_at_one_limit_still_count_against_the_id_number(rt, session):
    target = next_id_number()
    for _ in range(attempts.PER_ADDRESS):
        assert _try(session, rt, "10.9.0.1", None)
    # The busy address is refused; each of these tries on the target still counts.
    assert [_try(session, rt, "10.9.0.1", target) for _ in range(3)] == [False] * 3
    # So from a fresh address the ID number has 2 tries left of its 5, not 5.
    assert [_try(session, rt, "10.9.0.2", target) for _ in range(3)] == [True, True, False]


def test_the_attempt_that_hits_the_limit_is_counted(rt, session):
    target = next_id_number()
    results = [_try(session, rt, f"10.9.1.{i}", target)
               for i in range(attempts.PER_ID_NUMBER + 2)]
    assert results == [True] * attempts.PER_ID_NUMBER + [False, False]
    key = attempts.keys_for(rt.vault, None, target)[1][0]
    # Every attempt is in the count, the refused ones too.
    assert attempts.bump(session=session, key=key) == attempts.PER_ID_NUMBER + 3

