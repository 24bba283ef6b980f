"""What offline checkpoints learn of health status: the status code and the status list.

The status code ("ST1:", codec/status.py) is signed with the pass keys, so a device
verifies it with the trust list it already holds; it is short-lived, so a phone shows
a fresh one and an old screenshot stops verifying. The status list names the live
passes of people who are not green (pass ids, not people: a pass carries no person
identifier a device could match, and the ID hash is keyed on the server), signed with
the revocation-list key. Why a list of its own and not the revocation list:
docs/security.md, "Health status offline".
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.codec.lists import sign_status_list
from passtrace.codec.status import StatusClaims, encode_status
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.passes import keyring
from passtrace.passes.models import Pass
from passtrace.people.models import Person

CODE_MINUTES = 30
MAX_ENTRIES = 2_000_000  # beyond this the list is no use on a phone; the server decides


def status_ref(rt: Runtime, person_id: uuid.UUID) -> bytes:
    """The person's status reference: what their status code and the status list share.

    Keyed on the server (the lookup-hash key, under a label of its own), so it neither
    names the person nor can be computed from anything a device or a stranger holds;
    stable, so a list made after a code still names that code's holder.
    """
    return bytes.fromhex(rt.vault.lookup_hash(f"status-ref:{person_id}"))[:16]


HOLDER_REF = "status-holder"


def holder_ref(rt: Runtime, person_id: uuid.UUID) -> bytes:
    """Who holds a status code, in a form only the server turns back into the person.

    Not `status_ref`: that one is a one-way hash (devices match it against the list), so
    finding the holder from it means comparing candidates, which is cheap only for the
    few who are not green. This is the person id under a keyed permutation
    (`PiiVault.reference`): one step back to the id, then a primary-key read, whatever
    the level, so every check reaches the holder's access log.
    """
    return rt.vault.reference(person_id, purpose=HOLDER_REF)


def holder_of(rt: Runtime, ref: bytes) -> uuid.UUID | None:
    """The person id a `holder_ref` stands for (the caller reads the person)."""
    return rt.vault.resolve_reference(ref, purpose=HOLDER_REF)


def status_code(*, session: Session, rt: Runtime, person: Person, level: str,
                updated_at: datetime) -> str:
    """A signed status code for the person's phone, valid CODE_MINUTES."""
    now = utcnow()
    key = keyring.current_signer(session=session, vault=rt.vault)
    return encode_status(StatusClaims(
        code_id=os.urandom(16), level=level, holder=person.name_masked,
        id_last4=person.id_last4, updated_at=int(updated_at.timestamp()),
        issued_at=int(now.timestamp()),
        expires_at=int((now + timedelta(minutes=CODE_MINUTES)).timestamp()),
        ref=status_ref(rt, person.id), holder_ref=holder_ref(rt, person.id)), key)


def status_entries(session: Session, now: datetime) -> list[tuple[str, str]]:
    """(pass id, level) for each live pass whose holder is yellow or red."""
    rows = session.execute(
        select(Pass.id, Person.status).join(Person, Person.id == Pass.person_id)
        .where(Person.status.in_(("yellow", "red")), Pass.status == "approved",
               Pass.valid_until > now).order_by(Pass.id).limit(MAX_ENTRIES))
    return [(str(pid), status) for pid, status in rows]


def people_entries(session: Session, rt: Runtime) -> list[tuple[bytes, str]]:
    """(status reference, level) for each person who is yellow or red."""
    rows = session.execute(select(Person.id, Person.status)
                           .where(Person.status.in_(("yellow", "red")))
                           .order_by(Person.id).limit(MAX_ENTRIES))
    return [(status_ref(rt, pid), status) for pid, status in rows]


def signed_status_list(*, session: Session, rt: Runtime) -> dict[str, object]:
    """The complete status list, signed; its version is when it was made (milliseconds),
    so a device keeps whichever it fetched last."""
    now = utcnow()
    entries = status_entries(session, now)
    signer = keyring.list_signer(session=session, vault=rt.vault)
    version = int(now.timestamp() * 1000)
    return {"version": version, "count": len(entries),
            "signed": sign_status_list(entries, signer, version=version,
                                       issued_at=int(now.timestamp()),
                                       people=people_entries(session, rt))}
