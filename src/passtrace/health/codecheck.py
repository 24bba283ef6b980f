"""A checkpoint reads a person's status code: verify it and say the status as of now.

The code is signed with the pass keys (codec/status.py), so the server verifies it with
the same trust store as a pass. What the code says is its level when it was issued; the
server knows the level now. Offline a device does the same with the signed status list
(static/js/checkpoint/status.js): the newer of the code and the list wins.

A check online reads the holder's status, so it reaches the holder's access log
("who viewed my data"): the code's holder reference names them in one step, whatever
their level (offline.holder_ref). A refused code names nobody and records nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import lanes as audit_lanes
from passtrace.codec import PassRejected
from passtrace.codec.status import StatusClaims, verify_status
from passtrace.core.clock import utcnow
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.health import offline
from passtrace.passes import keyring
from passtrace.people.models import Person

MAX_CODE_CHARS = 2000
log = logging.getLogger(__name__)

# Codec rejections -> what the guard is told. Anything else: "not a status code".
REFUSALS = {
    "expired": N_("This status code has expired: ask the person to open a fresh one."),
    "bad_signature": N_("This status code is not genuine (its signature does not verify)."),
    "unknown_kid": N_("This status code is not genuine (signed with an unknown key)."),
    "key_retired": N_("This status code is not genuine (signed with an unknown key)."),
    "unsupported_alg": N_("This status code is not genuine (signed with an unknown key)."),
}
NOT_A_CODE = N_("This is not a status code.")


@dataclass(frozen=True)
class CodeCheck:
    """What the guard sees: the status now, and what the code itself said."""

    level: str
    code_level: str
    changed_since: bool  # the status changed after the code was issued
    holder: str
    id_last4: str
    updated_at: datetime
    valid_until: datetime


def _refused(reason: str) -> ValidationFailed:
    return ValidationFailed(REFUSALS.get(reason, NOT_A_CODE), code="status_code_refused",
                            fields={"code": REFUSALS.get(reason, NOT_A_CODE)})


def _holder(session: Session, rt: Runtime, claims: StatusClaims) -> Person | None:
    """The code's holder, or None when the code cannot name them.

    A code with a holder reference: the reference turns back into the person id and one
    primary-key read finds them (O(1), whatever the level). Should it name nobody (a
    person since deleted, or a server whose keys differ from the issuer's), the status
    reference is tried as for older codes. A code issued before holder references (valid
    CODE_MINUTES, so only around an upgrade): only people who are not green can be told
    apart, and the masked name narrows them to a handful whose status references are
    compared.
    """
    if claims.holder_ref:
        person_id = offline.holder_of(rt, claims.holder_ref)
        person = session.get(Person, person_id) if person_id is not None else None
        if person is not None:
            return person
        log.warning("a status code's holder reference names nobody (code %s)",
                    claims.code_id.hex())
    if not claims.ref:
        return None
    rows = session.scalars(select(Person).where(
        Person.status.in_(("yellow", "red")), Person.name_masked == claims.holder))
    return next((p for p in rows if offline.status_ref(rt, p.id) == claims.ref), None)


def _level_now(person: Person | None, claims: StatusClaims) -> str:
    """The holder's level now. A code naming nobody known: what the code says when it
    carries no reference, or when its holder reference names nobody (the server cannot
    tell who it is: never greener than the code); green when only its status reference
    was compared (no one who is not green matched it)."""
    if person is not None:
        return str(person.status)
    if claims.holder_ref or not claims.ref:
        return claims.level
    return "green"


def check(*, session: Session, rt: Runtime, actor: Principal, text: str) -> CodeCheck:
    """Verify a status code and give the holder's status now; refuse a bad code (422).

    A successful check is a read of the holder's status by the guard: one entry in the
    holder's access log (who: the guard's role and site, from the actor; when).
    """
    text = text.strip()
    if not text or len(text) > MAX_CODE_CHARS:
        raise _refused("bad_prefix")
    now = utcnow()
    try:
        claims = verify_status(text, keyring.trust_store(session=session),
                               now=int(now.timestamp()))
    except PassRejected as exc:
        raise _refused(exc.reason) from None
    except Exception:  # noqa: BLE001 - any garbage a scanner reads is "not a code"
        raise _refused("bad_prefix") from None
    person = _holder(session, rt, claims)
    level = _level_now(person, claims)
    if person is not None:
        # On a side lane of the audit chain (audit/lanes.py): a check is a checkpoint's
        # hot path, and the main chain's lock, held until commit, would queue every
        # guard's scan behind every other audited write.
        audit_lanes.append(session=session, actor=actor, action="health.code.check",
                           resource_type="person", resource_id=person.id,
                           subject_person_id=person.id, detail={"level": level})
    return CodeCheck(level=level, code_level=claims.level, changed_since=level != claims.level,
                     holder=claims.holder, id_last4=claims.id_last4,
                     updated_at=datetime.fromtimestamp(claims.updated_at, UTC),
                     valid_until=datetime.fromtimestamp(claims.expires_at, UTC))
