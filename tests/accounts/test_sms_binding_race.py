"""Races on SMS codes: one code binds once; parallel wrong guesses all count."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from passtrace.accounts import service as account_service
from passtrace.accounts import sms_binding
from passtrace.accounts.models import SmsBindCode, User
from passtrace.audit.models import AuditEntry
from passtrace.core.outbox import OutboxMessage
from passtrace.demo import demo_id_number
from passtrace.people import service as people_service
from tests.concurrency import is_postgres, race, tag


def _person_with_code(rt) -> tuple[uuid.UUID, uuid.UUID, str]:  # type: ignore[no-untyped-def]
    """A committed person an office registered with a phone, an unlinked account that
    asked for a code; returns (user id, person id, the texted code)."""
    t = tag()
    with rt.sessions() as s:
        # A fresh ID number (birth date and sequence from the tag) in the shared database.
        born = date(1960, 1, 1) + timedelta(days=int(t[:4], 16) % 15000)
        person = people_service.register(
            session=s, vault=rt.vault, actor=None, name="赵六", phone="13900001111",
            source=("community", uuid.uuid4()),
            id_number=demo_id_number("520102", born.strftime("%Y%m%d"),
                                     str(int(t[4:], 16) % 1000).zfill(3)))
        user = account_service.create(session=s, rt=rt, actor=None, username=f"sms-{t}",
                                      password="long-enough-1", display_name="x")
        sms_binding.request_code(session=s, rt=rt, user=user,
                                 id_number=rt.vault.read(person, "id_enc"), name="赵六",
                                 locale="zh_CN")
        s.commit()
        text = s.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.dedupe_key.like("sms-bind:%"))
            .order_by(OutboxMessage.created_at.desc())).first()["text"]
        found = re.search(r"\b(\d{6})\b", text)
        assert found
        return user.id, person.id, found.group(1)


def test_one_code_confirmed_twice_at_once_binds_once(committed_rt):
    rt = committed_rt
    user_id, person_id, code = _person_with_code(rt)

    def confirm(s):  # type: ignore[no-untyped-def]
        user = s.get(User, user_id)
        if sms_binding.confirm_code(session=s, rt=rt, user=user, code=code,
                                    actor=None) is None:
            raise sms_binding.SmsCodeRefused()

    outcomes = race(rt, confirm, confirm, before=lambda s: s.scalar(
        select(SmsBindCode.id).where(SmsBindCode.user_id == user_id)))
    # Without the conditional UPDATE both read the code unused and both bind (the same
    # account twice: two account.bind entries). PostgreSQL: the loser's UPDATE waits for
    # the winner's row lock, then matches nothing. SQLite: the second writer is busy.
    assert outcomes.count("ok") == 1, outcomes
    loser = "SmsCodeRefused" if is_postgres(rt) else "busy"
    assert loser in outcomes, outcomes
    with rt.sessions() as s:
        assert s.scalar(select(User.person_id).where(User.id == user_id)) == person_id
        binds = s.scalars(select(AuditEntry.id).where(
            AuditEntry.action == "account.bind", AuditEntry.subject_person_id == person_id))
        assert len(binds.all()) == 1


def test_parallel_wrong_codes_are_all_counted(committed_rt):
    rt = committed_rt
    user_id, _, code = _person_with_code(rt)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    def guess(s):  # type: ignore[no-untyped-def]
        user = s.get(User, user_id)
        assert sms_binding.confirm_code(session=s, rt=rt, user=user, code=wrong,
                                        actor=None) is None

    outcomes = race(rt, guess, guess, guess, before=lambda s: s.scalar(
        select(SmsBindCode.failed_tries).where(SmsBindCode.user_id == user_id)))
    assert all(o in ("ok", "busy") for o in outcomes), outcomes
    with rt.sessions() as s:
        tries = s.scalar(select(SmsBindCode.failed_tries).where(
            SmsBindCode.user_id == user_id))
    # A read-then-write count would lose increments (three read 0, all write 1).
    assert tries == outcomes.count("ok")
    if is_postgres(rt):
        assert tries == 3
