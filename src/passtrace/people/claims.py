"""What offices say about a person, kept per source; the person's own identity is separate.

A compound, an employer or a visit invite types a name and a phone for an ID number.
That is their claim, stored here with its source. It never overwrites the person's own
name and phone (set only by the person's proofed account, see people.service
.set_own_identity), and an employer reads back only its own claim.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.ids import uuid7
from passtrace.core.pii import PiiVault, mask_name, mask_phone
from passtrace.people.models import CLAIM_SOURCES, PersonClaim


def claim_columns(vault: PiiVault, name: str, phone: str | None, *, person_id: uuid.UUID,
                  source_kind: str, source_id: uuid.UUID) -> dict[str, Any]:
    """A claim's stored columns from validated values (bulk imports insert these)."""
    row = {"person_id": person_id, "source_kind": source_kind, "source_id": source_id}
    return {"name_enc": vault.encrypt(name, ad=PersonClaim.pii_ad_for("name_enc", row)),
            "name_masked": mask_name(name),
            "phone_enc": vault.encrypt(phone, ad=PersonClaim.pii_ad_for("phone_enc", row))
            if phone else None,
            "phone_masked": mask_phone(phone) if phone else None}


def get(*, session: Session, person_id: uuid.UUID, source_kind: str,
        source_id: uuid.UUID) -> PersonClaim | None:
    """The claim one source made about a person, if any."""
    return session.scalar(select(PersonClaim).where(
        PersonClaim.person_id == person_id, PersonClaim.source_kind == source_kind,
        PersonClaim.source_id == source_id))


def record(*, session: Session, vault: PiiVault, person_id: uuid.UUID, source_kind: str,
           source_id: uuid.UUID, name: str, phone: str | None) -> PersonClaim:
    """Keep (or restate) what one source says a person is called; validated values only.

    Race: two requests of the same source writing a claim for the same person at once
    would both find none and insert two. The unique (person, source kind, source id)
    constraint lets only one insert win; the loser updates the winner's row instead.
    """
    if source_kind not in CLAIM_SOURCES:
        raise ValueError(f"unknown claim source {source_kind!r}")
    values = claim_columns(vault, name, phone, person_id=person_id, source_kind=source_kind,
                           source_id=source_id)
    found = get(session=session, person_id=person_id, source_kind=source_kind,
                source_id=source_id)
    if found is None:
        try:
            with session.begin_nested():
                found = PersonClaim(person_id=person_id, source_kind=source_kind,
                                    source_id=source_id, **values)
                session.add(found)
            return found
        except IntegrityError:
            found = get(session=session, person_id=person_id, source_kind=source_kind,
                        source_id=source_id)
            assert found is not None  # the row that beat us to the insert
    for key, value in values.items():
        setattr(found, key, value)
    session.flush()
    return found


def existing_pairs(*, session: Session, source_kind: str, source_id: uuid.UUID,
                   person_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these people already carry a claim from this source (bulk imports)."""
    found: set[uuid.UUID] = set()
    for i in range(0, len(person_ids), 500):
        found.update(session.scalars(select(PersonClaim.person_id).where(
            PersonClaim.source_kind == source_kind, PersonClaim.source_id == source_id,
            PersonClaim.person_id.in_(person_ids[i:i + 500]))))
    return found


def store_many(*, session: Session, vault: PiiVault, source_kind: str, source_id: uuid.UUID,
               claimed: dict[uuid.UUID, tuple[str, str | None]]) -> None:
    """Keep (or restate) one source's claims for many people at once (bulk imports).

    {person id: (name, phone)}, validated values. New claims are one multi-row INSERT;
    an import racing another import of the same source for the same person fails on
    the unique constraint and is rolled back whole (the user retries).
    """
    if not claimed:
        return
    known = existing_pairs(session=session, source_kind=source_kind, source_id=source_id,
                           person_ids=list(claimed))
    fresh = [{"id": uuid7(), "created_at": utcnow(), "person_id": pid,
              "source_kind": source_kind, "source_id": source_id,
              **claim_columns(vault, name, phone, person_id=pid, source_kind=source_kind,
                              source_id=source_id)}
             for pid, (name, phone) in claimed.items() if pid not in known]
    if fresh:
        session.execute(insert(PersonClaim), fresh)
    for pid in known:
        name, phone = claimed[pid]
        session.execute(update(PersonClaim).where(
            PersonClaim.person_id == pid, PersonClaim.source_kind == source_kind,
            PersonClaim.source_id == source_id).values(**claim_columns(
                vault, name, phone, person_id=pid, source_kind=source_kind,
                source_id=source_id))
            .execution_options(synchronize_session=False))


def same_name(vault: PiiVault, claim: PersonClaim, typed: str) -> bool:
    """Whether a typed name is the one the source holds (spaces and case ignored)."""
    def norm(s: str) -> str:
        return "".join(s.split()).casefold()
    return norm(vault.read(claim, "name_enc")) == norm(typed)


# A name search decrypts only the claims whose masked name shares the typed first
# character; past this many candidates the search asks for more of the name.
NAME_CANDIDATES_MAX = 5000


def people_named(*, session: Session, vault: PiiVault, source_kind: str,
                 source_id: uuid.UUID, prefix: str,
                 person_ids: Any = None) -> set[uuid.UUID]:
    """The people whose name, as this source gave it, starts with `prefix`.

    Names are stored encrypted: the masked copy keeps the first character, so only the
    claims starting with it are decrypted (in memory, never shown), and only the
    source's own claims: an office searches the names it typed itself. `person_ids`
    (a select of ids) narrows the candidates to what the caller may list.
    """
    stmt = select(PersonClaim).where(
        PersonClaim.source_kind == source_kind, PersonClaim.source_id == source_id,
        PersonClaim.name_masked.startswith(prefix[0], autoescape=True))
    if person_ids is not None:
        stmt = stmt.where(PersonClaim.person_id.in_(person_ids))
    found: set[uuid.UUID] = set()
    for claim in session.scalars(stmt.limit(NAME_CANDIDATES_MAX)):
        if len(prefix) == 1 or vault.read(claim, "name_enc").startswith(prefix):
            found.add(claim.person_id)
    return found
