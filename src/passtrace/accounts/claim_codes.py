"""Claim codes: a one-time code an office hands a person in person, to bind their account.

Shown once when issued; only a keyed hash is stored; expires after CLAIM_CODE_DAYS;
used once. A new code for the same person and office replaces any unused one.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from passtrace.accounts.models import ClaimCode
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.pii import PiiVault
from passtrace.core.security import Principal

CLAIM_CODE_DAYS = 7
# No 0/O, 1/I/L: the code is read aloud or copied from paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10


def normalise(code: str) -> str:
    """Upper case, without spaces or dashes, as typed from the slip."""
    return "".join(c for c in code.upper() if c.isalnum())


def _hash(vault: PiiVault, code: str) -> str:
    # Keyed (the PII lookup key): a stolen table does not let anyone test guesses offline.
    return vault.lookup_hash("claim-code:" + normalise(code))


def issue(*, session: Session, vault: PiiVault, actor: Principal, person_id: uuid.UUID,
          source_kind: str, source_id: uuid.UUID) -> tuple[str, datetime]:
    """Make a new code for a person on behalf of an office; return it (shown once)."""
    session.execute(delete(ClaimCode).where(
        ClaimCode.person_id == person_id, ClaimCode.source_kind == source_kind,
        ClaimCode.source_id == source_id, ClaimCode.used_at.is_(None)))
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    expires = utcnow() + timedelta(days=CLAIM_CODE_DAYS)
    row = ClaimCode(code_hash=_hash(vault, raw), person_id=person_id,
                    source_kind=source_kind, source_id=source_id,
                    issued_by=actor.user_id, expires_at=expires)
    session.add(row)
    session.flush()
    audit_service.record(session=session, actor=actor, action="person.claim_code.issue",
                         resource_type="person", resource_id=person_id,
                         subject_person_id=person_id,
                         detail={"source": source_kind, "source_id": str(source_id),
                                 "expires_at": expires.isoformat()})
    return f"{raw[:5]}-{raw[5:]}", expires


def find_live(*, session: Session, vault: PiiVault, code: str,
              person_id: uuid.UUID) -> ClaimCode | None:
    """The unused, unexpired code for this person, if the typed code is one."""
    if len(normalise(code)) != LENGTH:
        return None
    row = session.scalar(select(ClaimCode).where(ClaimCode.code_hash == _hash(vault, code)))
    if (row is None or row.person_id != person_id or row.used_at is not None
            or row.expires_at <= utcnow()):
        return None
    return row


def use(*, session: Session, row: ClaimCode, user_id: uuid.UUID) -> bool:
    """Spend a code once; False when another request spent it first.

    Race: two sign-ups holding the same code (a photographed slip) both find it unused.
    The UPDATE only matches while used_at is still empty, which the database checks
    and sets atomically (PostgreSQL re-checks the row after the other's lock; SQLite
    has one writer), so exactly one request sees a row changed.
    """
    now = utcnow()
    done = session.execute(update(ClaimCode).where(
        ClaimCode.id == row.id, ClaimCode.used_at.is_(None), ClaimCode.expires_at > now)
        .values(used_at=now, used_by=user_id).execution_options(synchronize_session=False))
    return bool(done.rowcount)  # type: ignore[attr-defined]
