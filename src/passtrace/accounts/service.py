"""Users, role grants, logins and tokens."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts import passwords, throttle
from passtrace.accounts.models import AuthSession, RoleBinding, User
from passtrace.audit import service as audit_service
from passtrace.core.cache import Changes, Miss, TtlCache
from passtrace.core.clock import utcnow
from passtrace.core.errors import Conflict, Unauthorized, ValidationFailed
from passtrace.core.runtime import Runtime
from passtrace.core.security import (
    ROLES,
    SCOPE_TYPES,
    Binding,
    Principal,
    new_token,
    token_digest,
)

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
# Roles that call for a second factor (accounts.second_factor), in any scope.
SECOND_FACTOR_ROLES = frozenset({"official", "admin"})


def second_factor_needed(user: User) -> bool:
    """Whether the account holds a role that calls for a second factor."""
    return any(b.role in SECOND_FACTOR_ROLES for b in user.bindings)


def second_factor_enabled(user: User) -> bool:
    """Whether the account has a confirmed second factor."""
    return user.totp_enabled_at is not None


def second_factor_missing(user: User, enforced: bool) -> bool:
    """Whether the account must set up a second factor before it holds its roles."""
    return enforced and second_factor_needed(user) and not second_factor_enabled(user)


def get_by_username(*, session: Session, username: str) -> User | None:
    """Get a user by login name."""
    return session.scalar(select(User).where(User.username == username))


def create(
    *,
    session: Session,
    rt: Runtime,
    actor: Principal | None,
    username: str,
    password: str,
    display_name: str,
    person_id: uuid.UUID | None = None,
    locale: str | None = None,
) -> User:
    """Create a user with a hashed password."""
    if not USERNAME_RE.match(username):
        raise ValidationFailed("A username is 3-64 letters, digits, dots, dashes or underscores.",
                               fields={"username": "A username is 3-64 letters, digits, dots, "
                                                   "dashes or underscores."})
    passwords.check(password, username=username)
    if get_by_username(session=session, username=username):
        raise Conflict("The username %(username)s is taken.", username=username)
    user = User(username=username, password_hash=rt.passwords.hash(password),
                display_name=display_name.strip() or username, person_id=person_id,
                locale=locale)
    session.add(user)
    session.flush()
    audit_service.record(session=session, actor=actor, action="user.create",
                         resource_type="user", resource_id=user.id,
                         detail={"username": username})
    return user


def grant(
    *, session: Session, actor: Principal | None, user: User, role: str,
    scope_type: str = "global", scope_value: str = "",
) -> RoleBinding:
    """Bind a role to a user within a scope."""
    if role not in ROLES:
        raise ValidationFailed("Unknown role %(role)s.", role=role)
    if scope_type not in SCOPE_TYPES:
        raise ValidationFailed("Unknown scope type %(scope)s.", scope=scope_type)
    if scope_type != "global" and not scope_value:
        raise ValidationFailed("A scoped role needs a scope value.")
    for b in user.bindings:
        if (b.role, b.scope_type, b.scope_value) == (role, scope_type, scope_value):
            return b
    binding = RoleBinding(user_id=user.id, role=role, scope_type=scope_type,
                          scope_value=scope_value if scope_type != "global" else "")
    user.bindings.append(binding)
    session.flush()
    audit_service.record(session=session, actor=actor, action="user.grant",
                         resource_type="user", resource_id=user.id,
                         detail={"role": role, "scope_type": scope_type,
                                 "scope_value": scope_value})
    return binding


def principal_for(user: User, *, auth: AuthSession | None = None,
                  ip: str | None = None, second_factor_enforced: bool = False) -> Principal:
    """Build the request principal from a user and their bindings."""
    return Principal(
        user_id=user.id, username=user.username, display_name=user.display_name,
        person_id=user.person_id,
        # A reset account holds no role until its owner sets a password of their own;
        # an official or admin none until they set up a second factor where required.
        bindings=() if user.must_change_password
        or second_factor_missing(user, second_factor_enforced) else tuple(
            Binding(b.role, b.scope_type, b.scope_value) for b in user.bindings),
        ip=ip, csrf_token=auth.csrf_token if auth else "",
        auth_kind=auth.kind if auth else "web", locale=user.locale,
    )


def authenticate(
    *, session: Session, rt: Runtime, username: str, password: str, ip: str | None
) -> User:
    """Check a login, throttled per (name, address) with backoff (accounts.throttle).

    A refusal has already flushed its failure count and its audit entry: the caller
    commits before answering (a refused login must still count).
    """
    keys = throttle.keys_for(username, ip)
    free = rt.settings.login_max_failures
    throttle.check(session=session, keys=keys, free=free)
    user = get_by_username(session=session, username=username)
    # Hash even for unknown users so response time does not reveal which names exist.
    ok = rt.passwords.verify(user.password_hash if user else _DUMMY_HASH.get(rt), password)
    if not user or not ok or not user.is_active:
        throttle.record_failure(session=session, keys=keys)
        # No password and no reason here: the entry must not tell a reader which part
        # was wrong, nor hold a password mistyped into the name field in clear.
        audit_service.record(session=session, actor=None, action="login.failed",
                             resource_type="user", resource_id=user.id if user else "",
                             detail={"ip": ip or "-", "known_user": user is not None})
        session.flush()
        raise Unauthorized("Wrong username or password.")
    # With a second factor the login is not over: the count clears once the code is
    # right (accounts.second_factor.check_code), or wrong codes would never add up.
    if not second_factor_enabled(user):
        throttle.clear_pair(session=session, keys=keys)
    return user


def confirm_password(*, session: Session, rt: Runtime, user: User, password: str,
                     ip: str | None) -> bool:
    """Re-check a logged-in user's password (before deleting the account), throttled
    with the login's counters for (name, address): a stolen session must not be a way
    round the login throttle to guess the password.

    A wrong password flushes its failure count; the caller commits it before answering.
    """
    keys = throttle.keys_for(user.username, ip)
    throttle.check(session=session, keys=keys, free=rt.settings.login_max_failures)
    if rt.passwords.verify(user.password_hash, password):
        return True
    throttle.record_failure(session=session, keys=keys)
    session.flush()
    return False


class _DummyHash:
    """A hash of a random password per runtime, to equalize login timing."""

    def get(self, rt: Runtime) -> str:
        cached = rt.cache.get("dummy_hash")
        if not isinstance(cached, str):
            cached = rt.passwords.hash(new_token())
            rt.cache["dummy_hash"] = cached
        return cached


_DUMMY_HASH = _DummyHash()


def start_session(
    *, session: Session, rt: Runtime, user: User, kind: str, ip: str | None
) -> tuple[str, AuthSession]:
    """Open a login session; return the raw token (shown once) and the record."""
    token = new_token()
    hours = rt.settings.session_hours if kind == "web" else rt.settings.api_token_hours
    record = AuthSession(token_hash=token_digest(token), user_id=user.id, kind=kind,
                         csrf_token=new_token(), expires_at=utcnow() + timedelta(hours=hours))
    session.add(record)
    session.flush()
    audit_service.record(session=session, actor=principal_for(user, ip=ip), action="user.login",
                         resource_type="user", resource_id=user.id, detail={"kind": kind})
    return token, record


def resolve_token(*, session: Session, token: str) -> tuple[User, AuthSession] | None:
    """Find the live session and active user behind a token."""
    record = session.scalar(select(AuthSession).where(
        AuthSession.token_hash == token_digest(token)))
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        return None
    if record.kind not in ("web", "api"):
        return None  # a login still waiting for its second factor grants nothing
    user = session.get(User, record.user_id)
    if user is None or not user.is_active:
        return None
    return user, record


# Resolved logins, cached in this process for a few seconds: a hot endpoint (a
# checkpoint registering ~1,000 people a second) must not pay three queries per
# request just to learn who is asking. Any change to users, role bindings or
# login sessions flushed or committed in this process clears the whole cache, so
# a logout, a deactivation or a revoked role takes effect at once here; other
# worker processes notice within TOKEN_CACHE_SECONDS. Expiry is re-checked on
# every hit.
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_MAX = 10_000
AUTH_CHANGES = Changes(User, RoleBinding, AuthSession, name="auth")
# token digest -> (the login's expiry, the principal)
_tokens: TtlCache[str, tuple[datetime, Principal]] = TtlCache(
    ttl=TOKEN_CACHE_SECONDS, max_entries=TOKEN_CACHE_MAX, changes=AUTH_CHANGES)


def clear_token_cache() -> None:
    """Forget every cached login (a change made outside the ORM, or a test)."""
    _tokens.invalidate()


def cached_principal(*, token: str, ip: str | None) -> Principal | None:
    """Return the principal behind a token if it was resolved moments ago (no I/O)."""
    hit = _tokens.get(token_digest(token))
    if isinstance(hit, Miss) or hit[0] <= utcnow():
        return None
    return replace(hit[1], ip=ip)


def resolve_principal(*, session: Session, token: str, ip: str | None,
                      second_factor_enforced: bool = False) -> Principal | None:
    """Resolve a token to the request principal, through the short-lived cache."""
    cached = cached_principal(token=token, ip=ip)
    if cached is not None:
        return cached
    generation = _tokens.generation()
    found = resolve_token(session=session, token=token)
    if found is None:
        return None
    user, record = found
    principal = principal_for(user, auth=record, second_factor_enforced=second_factor_enforced)
    _tokens.put(token_digest(token), (record.expires_at, principal), generation=generation)
    return replace(principal, ip=ip)


class Principals:
    """accounts as the Runtime's principal resolver (core.runtime.PrincipalResolver)."""

    def __init__(self, *, second_factor_enforced: bool = False) -> None:
        self.second_factor_enforced = second_factor_enforced

    def cached(self, *, token: str, ip: str | None) -> Principal | None:
        """The principal behind a token resolved moments ago (no I/O)."""
        return cached_principal(token=token, ip=ip)

    def resolve(self, *, session: Session, token: str, ip: str | None) -> Principal | None:
        """The principal behind a token, roles withheld while a second factor is due."""
        return resolve_principal(session=session, token=token, ip=ip,
                                 second_factor_enforced=self.second_factor_enforced)


def end_session(*, session: Session, token: str) -> None:
    """Log out: revoke the session behind a token."""
    found = resolve_token(session=session, token=token)
    if found:
        user, record = found
        record.revoked_at = utcnow()
        audit_service.record(session=session, actor=principal_for(user), action="user.logout",
                             resource_type="user", resource_id=user.id)


def set_locale(*, session: Session, actor: Principal, locale: str) -> None:
    """Save a user's language choice."""
    user = session.get(User, actor.user_id)
    if user is not None and locale in ("zh_CN", "en"):
        user.locale = locale
        audit_service.record(session=session, actor=actor, action="user.set_locale",
                             resource_type="user", resource_id=user.id,
                             detail={"locale": locale})
