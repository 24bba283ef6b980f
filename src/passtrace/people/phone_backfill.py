"""Fill the keyed phone hash of people stored before it existed (migration d2e8a4c6f1b3).

Officials find a person by phone through `people.phone_hash`; rows written before that
column have a phone but no hash and are found only by the slower masked-phone path of
health/search.py. This fills them in chunks by id, each chunk its own transaction
(the job `people.fill-phone-hashes` and `passtrace db fill-phone-hashes`): an
interrupted run keeps what it committed, and a row once filled is never read again, so
running it twice changes nothing. The phone is normalised as on write
(core.validators.validate_phone: NFKC, ASCII digits), so a number stored in full-width
digits is found by the number typed in ASCII.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from passtrace.audit import service as audit_service
from passtrace.core.db import session_scope
from passtrace.core.pii import PiiVault
from passtrace.core.validators import InvalidValue, validate_phone
from passtrace.people.models import Person
from passtrace.people.service import phone_hash

CHUNK = 500
_MISSING = (
    Person.phone_hash.is_(None),
    Person.phone_masked.is_not(None),
    Person.phone_enc.is_not(None),
)


@dataclass(frozen=True)
class Chunk:
    """One chunk's outcome: the last id read (None: nothing left), rows filled, and rows
    whose stored phone is no mobile number (left without a hash, read again next run)."""

    last: uuid.UUID | None
    filled: int
    unreadable: int


def missing(*, session: Session) -> int:
    """How many people have a phone on file but no phone hash."""
    return int(session.scalar(select(func.count()).select_from(Person).where(*_MISSING)) or 0)


def fill_chunk(
    *,
    session: Session,
    vault: PiiVault,
    after: uuid.UUID | None,
    limit: int = CHUNK,
    before_write: Callable[[], object] | None = None,
) -> Chunk:
    """Hash the phones of up to `limit` people after id `after` that have none; flush.

    `before_write` runs between reading the phones and writing their hashes (tests use
    it to change a phone at that moment).
    """
    query = (
        select(Person.id, Person.id_hash, Person.phone_enc)
        .where(*_MISSING)
        .order_by(Person.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Person.id > after)
    rows = session.execute(query).all()
    if not rows:
        return Chunk(None, 0, 0)
    if before_write is not None:
        before_write()
    filled = unreadable = 0
    for person_id, id_hash, blob in rows:
        if blob is None:  # the query asked for a phone; this tells the type checker
            continue
        stored = vault.decrypt(blob, ad=Person.pii_ad_for("phone_enc", {"id_hash": id_hash}))
        try:
            phone = validate_phone(stored)
        except InvalidValue:
            unreadable += 1
            continue
        # Race: the person's proofed account may set a new phone (and its hash) between
        # our read and this write; an unconditional write would put the old phone's
        # hash on the new phone, and a search by the new number would miss them. Only a
        # row still holding the ciphertext we read, with no hash yet, is written (the
        # update re-checks the row's latest committed version under its row lock).
        done = session.execute(
            update(Person)
            .where(Person.id == person_id, Person.phone_hash.is_(None), Person.phone_enc == blob)
            .values(phone_hash=phone_hash(vault, phone))
            .execution_options(synchronize_session=False)
        )
        filled += done.rowcount  # type: ignore[attr-defined]
    if filled:
        audit_service.record(
            session=session,
            actor=None,
            action="person.phone_hash.fill",
            resource_type="person",
            detail={"filled": filled},
        )
    session.flush()
    return Chunk(rows[-1][0], filled, unreadable)


@dataclass
class Progress:
    """What a whole run did."""

    filled: int = 0
    unreadable: int = 0
    chunks: int = 0


def fill_all(
    *,
    sessions: sessionmaker[Session],
    vault: PiiVault,
    max_chunks: int | None = None,
    limit: int = CHUNK,
    advance: Callable[[Chunk], object] | None = None,
) -> Progress:
    """Fill chunk after chunk, each committed in its own session, until none is left
    (or `max_chunks` ran: the job's bound per tick; the next tick starts over, finding
    only what is still missing)."""
    done = Progress()
    after: uuid.UUID | None = None
    while max_chunks is None or done.chunks < max_chunks:
        for session in session_scope(sessions, write=True):
            chunk = fill_chunk(session=session, vault=vault, after=after, limit=limit)
        if chunk.last is None:
            break
        done.chunks += 1
        done.filled += chunk.filled
        done.unreadable += chunk.unreadable
        after = chunk.last
        if advance is not None:
            advance(chunk)
    return done
