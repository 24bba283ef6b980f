"""The second factor: TOTP (accounts.totp) for officials and admins, with recovery codes.

- Who: an account holding the `official` or `admin` role in any scope. Where the
  setting enforces it (always in prod), such an account without a second factor holds
  no role until its owner sets one up (accounts.service.principal_for); anyone may
  set one up.
- Enrolment: a secret is made and kept encrypted with the PII vault (users.totp_secret);
  it becomes the second factor only once a code from the app is confirmed. Then ten
  recovery codes are shown once; only their hashes are kept.
- Login: after the password, the web login is pending (an auth session of kind
  "totp" that resolves to nobody) until a code or a recovery code is checked; an API
  token needs the code in the same request. Wrong codes count in the login throttle.
- Replay: each accepted code's time step is stored (users.totp_last_step) and a code
  of that step or an earlier one is refused, so a code works once.
- An admin can reset it (audited); the owner then sets it up again.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from passtrace.accounts import throttle, totp
from passtrace.accounts.admin import end_logins, require_admin
from passtrace.accounts.models import AuthSession, RecoveryCode, User
from passtrace.accounts.service import second_factor_enabled as enabled
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import InvalidState, NotFound, Unauthorized, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal, new_token, token_digest

ISSUER = "PassTrace"
RECOVERY_CODES = 10
PENDING_KIND = "totp"  # auth_sessions.kind of a login waiting for its code
PENDING_MINUTES = 5
WRONG_CODE = N_("That code is not right. Enter the 6 digits your app shows now, or a "
                "recovery code.")


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the URI for the QR code and the secret to type."""

    uri: str
    secret_grouped: str


def start_enrolment(*, session: Session, rt: Runtime, actor: Principal) -> Enrolment:
    """Make (or show again) the secret being set up; it is not in force until confirmed."""
    user = _own(session, actor)
    if enabled(user):
        raise InvalidState("Your second factor is already set up.")
    if user.totp_secret is None:
        user.totp_secret = rt.vault.encrypt(totp.new_secret(),
                                               ad=user.pii_ad("totp_secret"))
        session.flush()
    secret = rt.vault.read(user, "totp_secret")
    return Enrolment(uri=totp.otpauth_uri(secret, account=user.username, issuer=ISSUER),
                     secret_grouped=totp.grouped(secret))


def confirm_enrolment(*, session: Session, rt: Runtime, actor: Principal,
                      code: str) -> list[str]:
    """Turn the second factor on with a code from the app; return the recovery codes
    (shown once)."""
    user = _own(session, actor, lock=True)
    if enabled(user):
        raise InvalidState("Your second factor is already set up.")
    if user.totp_secret is None:
        raise InvalidState("Start the set-up again: open the page once more.")
    if not _accept_totp(rt, user, code):
        raise ValidationFailed(WRONG_CODE, fields={"code": WRONG_CODE})
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(session, user)
    session.flush()
    audit_service.record(session=session, actor=actor, action="user.second_factor_enable",
                         resource_type="user", resource_id=user.id)
    return codes


def new_recovery_codes(*, session: Session, actor: Principal) -> list[str]:
    """Replace the owner's recovery codes (the old ones stop working); shown once."""
    user = _own(session, actor, lock=True)
    if not enabled(user):
        raise InvalidState("Set up the second factor first.")
    codes = _new_recovery_codes(session, user)
    audit_service.record(session=session, actor=actor, action="user.recovery_codes_renew",
                         resource_type="user", resource_id=user.id)
    return codes


def check_code(*, session: Session, rt: Runtime, user_id: uuid.UUID, code: str,
               ip: str | None) -> User:
    """The login's second step: accept a code once, or refuse it and count the failure.

    Throttled with the login's (name, address) counters. A refusal has flushed its
    failure count and audit entry: the caller commits before answering.
    """
    # Race: the same code sent twice at once (phished and replayed while its owner
    # types it, or a double submit) must log in once. Both would read the same last
    # step and both accept it; the user row is locked first, so the second waits
    # (PostgreSQL) or is refused as busy (SQLite) and then finds the step used.
    user = locked(session, User, user_id)
    if user is None or not user.is_active or not enabled(user):
        raise Unauthorized("Please log in.")
    keys = throttle.keys_for(user.username, ip)
    throttle.check(session=session, keys=keys, free=rt.settings.login_max_failures)
    clean = _clean(code)
    if _accept_totp(rt, user, clean):
        throttle.clear_pair(session=session, keys=keys)
        return user
    if _redeem_recovery_code(session, user, clean):
        throttle.clear_pair(session=session, keys=keys)
        audit_service.record(session=session, actor=None, action="user.recovery_code_use",
                             resource_type="user", resource_id=user.id,
                             detail={"ip": ip or "-"})
        return user
    throttle.record_failure(session=session, keys=keys)
    audit_service.record(session=session, actor=None, action="login.failed",
                         resource_type="user", resource_id=user.id,
                         detail={"ip": ip or "-", "second_factor": True})
    session.flush()
    raise Unauthorized(WRONG_CODE, code="second_factor")


def reset(*, session: Session, actor: Principal | None, user_id: uuid.UUID) -> User:
    """An admin takes a user's second factor away (a lost phone); their logins end."""
    require_admin(actor)
    user = locked(session, User, user_id)
    if user is None:
        raise NotFound("No such user.")
    had = enabled(user)
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = end_logins(session=session, user_id=user.id)
    session.flush()
    audit_service.record(session=session, actor=actor, action="user.second_factor_reset",
                         resource_type="user", resource_id=user.id,
                         detail={"was_enabled": had, "logins_ended": ended})
    return user


def start_pending(*, session: Session, user: User) -> str:
    """The password was right and a code is due: a short login that grants nothing yet."""
    token = new_token()
    session.add(AuthSession(token_hash=token_digest(token), user_id=user.id,
                            kind=PENDING_KIND, csrf_token=new_token(),
                            expires_at=utcnow() + timedelta(minutes=PENDING_MINUTES)))
    session.flush()
    return token


def pending_user(*, session: Session, token: str | None) -> uuid.UUID | None:
    """The user whose login waits for a code behind this token (None: none, or expired)."""
    if not token:
        return None
    record = session.scalar(select(AuthSession).where(
        AuthSession.token_hash == token_digest(token), AuthSession.kind == PENDING_KIND))
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        return None
    return record.user_id


def finish_pending(*, session: Session, token: str) -> None:
    """The code was checked: the pending login is spent."""
    session.execute(update(AuthSession).where(
        AuthSession.token_hash == token_digest(token), AuthSession.kind == PENDING_KIND)
        .values(revoked_at=utcnow()))


def _own(session: Session, actor: Principal, *, lock: bool = False) -> User:
    user = locked(session, User, actor.user_id) if lock else session.get(User, actor.user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def _clean(code: str) -> str:
    # Full-width digits from a Chinese keyboard, spaces or dashes copied with the code.
    text = unicodedata.normalize("NFKC", code)
    return "".join(ch for ch in text if ch not in " -").upper()


def _accept_totp(rt: Runtime, user: User, code: str) -> bool:
    """Check a TOTP code and spend its time step (the caller holds the user row)."""
    if user.totp_secret is None:
        return False
    key = totp.secret_bytes(rt.vault.read(user, "totp_secret"))
    step = totp.matching_step(key, _clean(code), utcnow().timestamp())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _recovery_hash(user_id: uuid.UUID, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, raw)))
    session.flush()
    return codes


def _redeem_recovery_code(session: Session, user: User, code: str) -> bool:
    if len(code) != 10:
        return False
    # Single use: the conditional UPDATE matches an unused code once, even when two
    # logins send it at the same moment.
    done = session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(user.id, code),
        RecoveryCode.used_at.is_(None)).values(used_at=utcnow()))
    return bool(done.rowcount)  # type: ignore[attr-defined]
