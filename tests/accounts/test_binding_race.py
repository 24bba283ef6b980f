"""Races on sign-up and binding: one claim code binds one account; no attempt is lost."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from passtrace.accounts import attempts, binding, claim_codes
from passtrace.accounts import service as account_service
from passtrace.accounts.models import ClaimCode, IdentityAttempt, RoleBinding, User
from passtrace.core.db import make_sessionmaker
from passtrace.core.errors import DomainError
from passtrace.core.security import Binding, Principal
from passtrace.demo import demo_id_number
from passtrace.people import service as people_service
from passtrace.people.models import Person, PersonClaim


def _run_together(n: int, work) -> list[str]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def run(i: int) -> None:
        barrier.wait()
        outcomes.append(work(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_one_claim_code_spent_by_two_sign_ups_at_once_binds_one_account(db_engine, rt):
    factory = make_sessionmaker(db_engine)  # real commits, outside the test transaction
    tag = uuid.uuid4().hex[:8]
    office = Principal(user_id=None, username="office", display_name="office",  # type: ignore[arg-type]
                       person_id=None, bindings=(Binding("admin", "global"),))
    source = uuid.uuid4()
    with factory() as s:
        person = people_service.register(
            session=s, vault=rt.vault, actor=None, name="赵六", source=("community", source),
            id_number=demo_id_number("520102", "19800202", str(int(tag, 16) % 1000).zfill(3)))
        id_number = rt.vault.read(person, "id_enc")
        code, _ = claim_codes.issue(session=s, vault=rt.vault, actor=office,
                                    person_id=person.id, source_kind="community",
                                    source_id=source)
        users = [account_service.create(session=s, rt=rt, actor=None,
                                        username=f"race{i}-{tag}", password="long-enough-1",
                                        display_name="x").id for i in range(2)]
        s.commit()
        person_id = person.id

    def bind(i: int) -> str:
        with factory() as s:
            try:
                user = s.get(User, users[i])
                binding.bind_with_claim_code(session=s, rt=rt, user=user, id_number=id_number,
                                             name="赵六", phone=None, code=code)
                s.commit()
                return "bound"
            except DomainError as exc:
                s.rollback()
                return exc.code
            except OperationalError as exc:  # SQLite: one writer; the other is told to retry
                s.rollback()
                return "busy" if "locked" in str(exc) else f"error: {exc!r}"

    try:
        outcomes = _run_together(2, bind)
        # PostgreSQL: the loser's UPDATE waits for the winner's row lock, then matches
        # nothing (refused), or it sees the linked account (conflict). SQLite: busy.
        assert outcomes.count("bound") == 1, outcomes
        loser = next(o for o in outcomes if o != "bound")
        assert loser in ("binding_refused", "conflict", "busy"), outcomes
        with factory() as s:
            bound = s.scalars(select(User.id).where(User.person_id == person_id)).all()
            assert len(bound) == 1
            row = s.scalar(select(ClaimCode).where(ClaimCode.person_id == person_id))
            assert row.used_by == bound[0]
    finally:
        with factory() as s:
            s.execute(delete(ClaimCode).where(ClaimCode.person_id == person_id))
            s.execute(delete(RoleBinding).where(RoleBinding.user_id.in_(users)))
            s.execute(delete(User).where(User.id.in_(users)))
            s.execute(delete(PersonClaim).where(PersonClaim.person_id == person_id))
            s.execute(delete(Person).where(Person.id == person_id))
            s.commit()


def test_concurrent_attempts_are_all_counted(db_engine):
    factory = make_sessionmaker(db_engine)
    key = f"ip:race-{uuid.uuid4().hex}"
    per_thread = 5

    def hammer(_: int) -> str:
        done = 0
        while done < per_thread:
            with factory() as s:
                try:
                    attempts.bump(session=s, key=key)
                    s.commit()
                    done += 1
                except OperationalError as exc:  # SQLite busy: the caller retries
                    s.rollback()
                    if "locked" not in str(exc):
                        return f"error: {exc!r}"
        return "ok"

    try:
        assert _run_together(4, hammer) == ["ok"] * 4
        with factory() as s:
            counts = s.scalars(select(IdentityAttempt.count).where(
                IdentityAttempt.key_hash == attempts._key_hash(key))).all()
        # One row for the window (the unique constraint), and no increment lost.
        assert counts == [4 * per_thread]
    finally:
        with factory() as s:
            s.execute(delete(IdentityAttempt).where(
                IdentityAttempt.key_hash == attempts._key_hash(key)))
            s.commit()
