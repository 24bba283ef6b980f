"""Two administrators rotating the signing key at once (committed, both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from passtrace.passes import keyring
from passtrace.passes.models import SigningKeyRecord
from tests.concurrency import is_postgres, race


def test_two_rotations_with_retire_old_leave_one_active_key(committed_rt):
    rt = committed_rt

    def rotate(session):  # type: ignore[no-untyped-def]
        keyring.rotate(session=session, vault=rt.vault, actor=None, retire_old=True)

    outcomes = race(rt, rotate, rotate, before=lambda s: keyring.list_keys(session=s))
    with rt.sessions() as s:
        active = s.scalar(select(func.count()).select_from(SigningKeyRecord).where(
            SigningKeyRecord.purpose == "pass", SigningKeyRecord.status == "active"))
    # PostgreSQL: the second rotation waits, then retires the key the first one made.
    # SQLite: one writer at a time; the second is refused as busy and retried.
    assert outcomes == ["ok", "ok"] or (not is_postgres(rt) and sorted(outcomes) == [
        "busy", "ok"]), outcomes
    assert active == 1, outcomes
