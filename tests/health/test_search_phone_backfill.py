"""People stored before the phone hash existed become findable by it once the back-fill
job ran (people/phone_backfill.py); a second run changes nothing (both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from passtrace.audit.models import AuditEntry
from passtrace.core.pii import mask_phone
from passtrace.health import search
from passtrace.people import jobs as people_jobs
from passtrace.people.models import Person
from passtrace.people.service import phone_hash

PHONE = "13912345678"
FULL_WIDTH = "１３９１２３４５６７８"  # as a form stored it before phones were normalised


def _legacy_phone(session, rt, person_id, stored: str) -> Person:  # type: ignore[no-untyped-def]
    """The person's phone as written before people.phone_hash: ciphertext and mask only."""
    person = session.get(Person, person_id)
    person.phone_enc = rt.vault.encrypt(stored, ad=person.pii_ad("phone_enc"))
    person.phone_masked = mask_phone(stored)
    person.phone_hash = None
    session.commit()
    return person


def _fills(session) -> int:  # type: ignore[no-untyped-def]
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "person.phone_hash.fill")
        )
        or 0
    )


def test_a_phone_stored_without_a_hash_is_found_by_it_after_the_job(session, rt, cast):
    person = _legacy_phone(session, rt, cast["resident"].user.person_id, FULL_WIDTH)
    official = cast["official"].principal
    # Before: no hash, and the full-width mask matches no typed number.
    assert search.find(session=session, rt=rt, actor=official, query=PHONE, via="page") == []

    assert people_jobs.fill_phone_hashes(rt) >= 1

    session.expire_all()
    assert person.phone_hash == phone_hash(rt.vault, PHONE)
    hits = search.find(session=session, rt=rt, actor=official, query=PHONE, via="page")
    assert [p.id for p in hits] == [person.id]
    assert _fills(session) >= 1


def test_running_the_job_twice_changes_nothing(session, rt, cast):
    _legacy_phone(session, rt, cast["resident"].user.person_id, PHONE)
    people_jobs.fill_phone_hashes(rt)
    session.expire_all()
    before = sorted(session.execute(select(Person.id, Person.phone_hash)).all())
    audited = _fills(session)

    assert people_jobs.fill_phone_hashes(rt) == 0

    session.expire_all()
    assert sorted(session.execute(select(Person.id, Person.phone_hash)).all()) == before
    assert _fills(session) == audited
    hits = search.find(
        session=session,
        rt=rt,
        actor=cast["official"].principal,
        query="+86 139 1234 5678",
        via="page",
    )
    assert len(hits) == 1
