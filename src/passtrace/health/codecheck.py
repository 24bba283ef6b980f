"""A checkpoint reads a person's status code: verify it and say the status as of now.

The code is signed with the pass keys (codec/status.py), so the server verifies it with
the same trust store as a pass. What the code says is its level when it was issued; the
server knows the level now. Offline a device does the same with the signed status list
(static/js/checkpoint/status.js): the newer of the code and the list wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.codec import PassRejected
from passtrace.codec.status import StatusClaims, verify_status
from passtrace.core.clock import utcnow
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.health import offline
from passtrace.passes import keyring
from passtrace.people.models import Person

MAX_CODE_CHARS = 2000

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


def _level_now(session: Session, rt: Runtime, claims: StatusClaims) -> str:
    """The holder's level now. Only people who are not green can differ from green, and
    the code's masked name narrows them to a handful: their references are compared."""
    if not claims.ref:
        return claims.level  # a code without a reference: only what it says
    rows = session.execute(select(Person.id, Person.status).where(
        Person.status.in_(("yellow", "red")), Person.name_masked == claims.holder))
    for person_id, status in rows:
        if offline.status_ref(rt, person_id) == claims.ref:
            return str(status)
    return "green"


def check(*, session: Session, rt: Runtime, text: str) -> CodeCheck:
    """Verify a status code and give the holder's status now; refuse a bad code (422)."""
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
    level = _level_now(session, rt, claims)
    return CodeCheck(level=level, code_level=claims.level, changed_since=level != claims.level,
                     holder=claims.holder, id_last4=claims.id_last4,
                     updated_at=datetime.fromtimestamp(claims.updated_at, UTC),
                     valid_until=datetime.fromtimestamp(claims.expires_at, UTC))
