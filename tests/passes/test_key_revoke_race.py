"""Two officials revoking the same leaked key at once (committed, both databases)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.audit.models import AuditEntry
from passtrace.passes import keyring
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass, Revocation
from tests.concurrency import is_postgres, race
from tests.passes.test_race_support import committed_pending_pass


def test_two_revocations_of_one_key_revoke_its_passes_and_audit_once(committed_rt):
    rt = committed_rt
    with rt.sessions() as session:
        kid = keyring.rotate(session=session, vault=rt.vault, actor=None).kid
        session.commit()
    pass_id, official = committed_pending_pass(rt.sessions, rt)
    with rt.sessions() as session:
        assert pass_service.approve(session=session, rt=rt, actor=official,
                                    pass_id=pass_id).kid == kid
        session.commit()

    def revoke(session: Session) -> None:
        keyring.revoke(session=session, actor=None, kid=kid, reason="key leaked")

    outcomes = race(rt, revoke, revoke)
    # PostgreSQL: the second waits for the key row, then finds it revoked. SQLite: the
    # second writer is refused as busy.
    assert sorted(outcomes) == ["InvalidState", "ok"] or (
        not is_postgres(rt) and sorted(outcomes) == ["busy", "ok"]), outcomes
    with rt.sessions() as session:
        assert session.get(Pass, pass_id).status == "revoked"
        assert session.scalar(select(func.count()).select_from(Revocation).where(
            Revocation.pass_id == pass_id)) == 1
        for action, resource in (("key.revoke", kid), ("pass.revoke", str(pass_id))):
            assert session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.resource_id == resource)) == 1, action
