"""The phone back-fill racing a person who sets a new phone (both databases, committed).

The back-fill reads a stored phone, then writes its hash; if the person's proofed account
sets another phone in between, the back-fill must not put the old phone's hash on the
new phone (people/phone_backfill.py writes only a row still holding what it read).
On SQLite the writer lock already orders the two; on PostgreSQL only that guard does.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from passtrace.core.db import session_scope
from passtrace.core.pii import mask_phone
from passtrace.people import phone_backfill
from passtrace.people import service as people_service
from passtrace.people.models import Person
from passtrace.people.service import phone_hash
from tests.concurrency import is_postgres
from tests.people.legacy import person_without_phone_hash

OLD, NEW = "13700001111", "13700002222"


def test_a_phone_changed_while_the_backfill_runs_keeps_the_new_phones_hash(committed_rt):
    rt = committed_rt
    for session in session_scope(rt.sessions, write=True):
        person = person_without_phone_hash(session, rt, name="王五", phone=OLD)
        person_id = person.id
    # Start just before this person, so the chunk reads them (others may be older).
    before = _id_before(rt, person_id)
    read, changed = threading.Event(), threading.Event()

    def between_read_and_write() -> None:
        read.set()
        # PostgreSQL: the person's change commits here. SQLite: it waits for our lock.
        changed.wait(timeout=10 if is_postgres(rt) else 0.5)

    def backfill() -> None:
        for session in session_scope(rt.sessions, write=True):
            phone_backfill.fill_chunk(
                session=session,
                vault=rt.vault,
                after=before,
                limit=1,
                before_write=between_read_and_write,
            )

    def person_sets_new_phone() -> None:
        read.wait(timeout=10)
        for session in session_scope(rt.sessions, write=True):
            people_service.set_own_identity(
                session=session,
                vault=rt.vault,
                person=session.get_one(Person, person_id),
                name="王五",
                phone=NEW,
            )
        changed.set()

    threads = [threading.Thread(target=backfill), threading.Thread(target=person_sets_new_phone)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    with rt.sessions() as session:
        person = session.get_one(Person, person_id)
        assert rt.vault.read(person, "phone_enc") == NEW
        assert person.phone_masked == mask_phone(NEW)
        assert person.phone_hash == phone_hash(rt.vault, NEW)


def _id_before(rt, person_id):  # type: ignore[no-untyped-def]
    with rt.sessions() as session:
        return session.scalar(
            select(Person.id).where(Person.id < person_id).order_by(Person.id.desc()).limit(1)
        )
