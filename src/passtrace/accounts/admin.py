"""Account care: password change and reset, deactivation, taking back a role.

Every change is audited in its transaction. Ending a user's logins marks their
sessions revoked and clears this process's login cache (accounts.service, via the
AuthSession change hook); other workers notice within TOKEN_CACHE_SECONDS.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from passtrace.accounts import passwords
from passtrace.accounts.models import AuthSession, RoleBinding, User
from passtrace.accounts.service import clear_token_cache
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal, token_digest

MANAGE = "user.manage"  # held by admin only (admin holds every permission)


def require_admin(actor: Principal | None) -> None:
    # actor None: the CLI, run by whoever holds the server and its database.
    if actor is not None and not actor.has(MANAGE):
        raise Forbidden("Your role does not allow this.")


def _user(session: Session, user_id: uuid.UUID, *, for_update: bool = False) -> User:
    query = select(User).where(User.id == user_id)
    if for_update:
        query = query.with_for_update()
    user = session.scalar(query)
    if user is None:
        raise NotFound("No such user.")
    return user


def end_logins(*, session: Session, user_id: uuid.UUID, keep_token: str | None = None) -> int:
    """Revoke every live login of a user (but the one behind keep_token); return how many."""
    query = update(AuthSession).where(AuthSession.user_id == user_id,
                                      AuthSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(AuthSession.token_hash != token_digest(keep_token))
    done = session.execute(query.values(revoked_at=utcnow()))
    clear_token_cache()  # a bulk UPDATE bypasses the ORM's change hook
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def change_password(*, session: Session, rt: Runtime, actor: Principal, current: str,
                    new: str, token: str | None) -> None:
    """The user changes their own password; their other logins end."""
    # Race: two changes at once would both check the same current password; the row
    # lock makes the second wait and check against the first one's new hash.
    user = _user(session, actor.user_id, for_update=True)
    if not rt.passwords.verify(user.password_hash, current):
        raise ValidationFailed("The current password is wrong.",
                               fields={"current_password": N_("The current password is wrong.")})
    if new == current:
        raise ValidationFailed("Choose a password different from the current one.",
                               fields={"password": N_("Choose a password different from "
                                                      "the current one.")})
    passwords.check(new, username=user.username)
    user.password_hash = rt.passwords.hash(new)
    user.must_change_password = False
    ended = end_logins(session=session, user_id=user.id, keep_token=token)
    session.flush()
    audit_service.record(session=session, actor=actor, action="user.password_change",
                         resource_type="user", resource_id=user.id,
                         detail={"other_logins_ended": ended})


def reset_password(*, session: Session, rt: Runtime, actor: Principal | None,
                   user_id: uuid.UUID) -> str:
    """An admin resets a password: return a one-time temporary one (shown once).

    The user holds no role and must choose a new password at their next login; every
    login they have now ends.
    """
    require_admin(actor)
    user = _user(session, user_id, for_update=True)
    temporary = passwords.temporary()
    user.password_hash = rt.passwords.hash(temporary)
    user.must_change_password = True
    end_logins(session=session, user_id=user.id)
    session.flush()
    audit_service.record(session=session, actor=actor, action="user.password_reset",
                         resource_type="user", resource_id=user.id)
    return temporary


def set_active(*, session: Session, actor: Principal | None, user_id: uuid.UUID,
               active: bool) -> User:
    """Deactivate (every login stops at once) or reactivate a user."""
    require_admin(actor)
    if actor is not None and actor.user_id == user_id and not active:
        raise ValidationFailed("You cannot deactivate your own account.")
    user = _user(session, user_id, for_update=True)
    if user.is_active == active:
        return user
    user.is_active = active
    if not active:
        end_logins(session=session, user_id=user.id)
    session.flush()
    clear_token_cache()
    audit_service.record(session=session, actor=actor,
                         action="user.activate" if active else "user.deactivate",
                         resource_type="user", resource_id=user.id)
    return user


def revoke_role(*, session: Session, actor: Principal | None, user_id: uuid.UUID,
                role: str, scope_type: str = "global", scope_value: str = "") -> None:
    """Take back one scoped role; the user's next request no longer has it."""
    require_admin(actor)
    user = _user(session, user_id)
    value = scope_value if scope_type != "global" else ""
    binding = session.scalar(select(RoleBinding).where(
        RoleBinding.user_id == user.id, RoleBinding.role == role,
        RoleBinding.scope_type == scope_type, RoleBinding.scope_value == value))
    if binding is None:
        raise NotFound("This user does not hold that role there.")
    user.bindings.remove(binding)
    session.flush()
    clear_token_cache()
    audit_service.record(session=session, actor=actor, action="user.revoke_role",
                         resource_type="user", resource_id=user.id,
                         detail={"role": role, "scope_type": scope_type,
                                 "scope_value": value})


def get_user(*, session: Session, actor: Principal | None, user_id: uuid.UUID) -> User:
    """One account, for an admin."""
    require_admin(actor)
    return _user(session, user_id)
