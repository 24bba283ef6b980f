"""Key changes while other requests use the keys (committed, both databases)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from passtrace.passes import keyring
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass, SigningKeyRecord
from tests.concurrency import is_postgres, race
from tests.passes.test_race_support import committed_pending_pass


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


def test_retiring_a_key_while_it_signs_keeps_it_verifying_that_pass(committed_rt):
    rt = committed_rt
    pass_id, official = committed_pending_pass(rt.sessions, rt)
    signed, outcomes = threading.Event(), {}

    def approve() -> None:
        with rt.sessions() as s:
            try:
                p = pass_service.approve(session=s, rt=rt, actor=official, pass_id=pass_id)
                s.flush()
                outcomes["kid"] = p.kid
                signed.set()
                time.sleep(1.0)  # the approval's request is still running
                s.commit()
                outcomes["approve"] = "ok"
            except Exception as exc:  # noqa: BLE001 - recorded; the assertions show it
                s.rollback()
                outcomes["approve"] = f"error: {exc!r}"
            finally:
                signed.set()

    def retire() -> None:
        signed.wait(10)
        with rt.sessions() as s:
            try:
                keyring.retire(session=s, actor=None, kid=outcomes["kid"])
                s.commit()
                outcomes["retire"] = "ok"
            except Exception as exc:  # noqa: BLE001 - recorded; the assertions show it
                s.rollback()
                outcomes["retire"] = "busy" if "locked" in str(exc) else f"error: {exc!r}"

    threads = [threading.Thread(target=approve), threading.Thread(target=retire)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes.get("approve") == "ok" and outcomes.get("retire") == "ok", outcomes
    with rt.sessions() as s:
        key = s.get(SigningKeyRecord, outcomes["kid"])
        p = s.get(Pass, pass_id)
        # The retired key keeps verifying until the pass it signed meanwhile expires.
        assert key.status == "retired" and key.verify_until >= p.valid_until, (
            key.verify_until, p.valid_until)


def test_two_trust_list_signers_at_once_store_two_versions(committed_rt, tmp_path):
    from passtrace.passes import trust_root
    from passtrace.passes.models import TrustListRecord

    rt = committed_rt
    root = trust_root.load_or_generate(tmp_path / "root.pem")
    with rt.sessions() as s:
        trust_root.sign(session=s, vault=rt.vault, root=root, actor=None)
        s.commit()

    def sign(session):  # type: ignore[no-untyped-def]
        trust_root.sign(session=session, vault=rt.vault, root=root, actor=None)

    outcomes = race(rt, sign, sign, before=lambda s: trust_root.newest(session=s))
    with rt.sessions() as s:
        versions = list(s.scalars(select(TrustListRecord.version)))
    # Without the lock both read the same last version and computed the same next one:
    # one of them failed on the unique version. PostgreSQL: the second waits and signs
    # the next version; SQLite: it is refused as busy and retried.
    assert outcomes == ["ok", "ok"] or (not is_postgres(rt) and sorted(outcomes) == [
        "busy", "ok"]), outcomes
    assert len(versions) == len(set(versions)) == 1 + outcomes.count("ok")
