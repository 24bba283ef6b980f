"""Account care API: your own password; for admins, users, roles, resets, deactivation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts import admin, second_factor
from passtrace.accounts import service as account_service
from passtrace.accounts.models import RoleBinding, User
from passtrace.accounts.schemas import (
    BindingRead,
    PasswordChange,
    RoleChange,
    TemporaryPasswordRead,
    UserAdminRead,
    UserCreate,
)
from passtrace.core.errors import Forbidden
from passtrace.core.pagination import Page, paginate_items
from passtrace.core.security import Principal
from passtrace.web.deps import (
    SESSION_COOKIE,
    CurrentPrincipal,
    RuntimeDep,
    SessionDep,
    bearer_token,
)
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(tags=["accounts"])


def current_token(request: Request) -> str | None:
    """The bearer token or session cookie of this request (the login to keep)."""
    return bearer_token(request) or request.cookies.get(SESSION_COOKIE)


def _admin(principal: Principal) -> Principal:
    if not principal.has(admin.MANAGE):
        raise Forbidden("Your role does not allow this.")
    return principal


def user_read(user: User) -> UserAdminRead:
    """An account as the admin page and API show it."""
    return UserAdminRead(id=user.id, username=user.username, display_name=user.display_name,
                         is_active=user.is_active,
                         must_change_password=user.must_change_password,
                         second_factor=user.totp_enabled_at is not None,
                         roles=[BindingRead(role=b.role, scope_type=b.scope_type,
                                            scope_value=b.scope_value) for b in user.bindings])


@router.post("/me/password", status_code=204)
def change_password(data: PasswordChange, request: Request, session: SessionDep,
                    rt: RuntimeDep, principal: CurrentPrincipal) -> None:
    """Change your password (the current one is required); your other logins end."""
    admin.change_password(session=session, rt=rt, actor=principal,
                          current=data.current_password, new=data.password,
                          token=current_token(request))


@router.get("/admin/users", response_model=Page[UserAdminRead])
def list_users(session: SessionDep, principal: CurrentPrincipal, q: str = "",
               role: str = "", scope: str = "", cursor: Cursor = None,
               limit: Limit = DEFAULT_LIMIT) -> Page[UserAdminRead]:
    """Find accounts by display name or username, role and scope value (admins), by name."""
    found = search(session=session, actor=_admin(principal), q=q, role=role, scope=scope,
                   limit=5000)
    rows, nxt = paginate_items(found, lambda u: (u.display_name, u.id), cursor=cursor,
                               limit=limit)
    return Page(items=[user_read(u) for u in rows], next=nxt)


def search(*, session: Session, actor: Principal, q: str = "", role: str = "",
           scope: str = "", limit: int = 100) -> list[User]:
    """Accounts matching a text (display name or username), a role and a scope value."""
    query = select(User).order_by(User.display_name, User.username).limit(limit)
    if q.strip():
        like = f"%{q.strip()[:64]}%"
        query = query.where(User.display_name.ilike(like) | User.username.ilike(like))
    if role.strip() or scope.strip():
        sub = select(RoleBinding.user_id)
        if role.strip():
            sub = sub.where(RoleBinding.role == role.strip()[:32])
        if scope.strip():
            sub = sub.where(RoleBinding.scope_value.startswith(scope.strip()[:64]))
        query = query.where(User.id.in_(sub))
    return list(session.scalars(query))


@router.post("/admin/users", response_model=UserAdminRead, status_code=201)
def create_user(data: UserCreate, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal) -> UserAdminRead:
    """Create an account (admins)."""
    user = account_service.create(session=session, rt=rt, actor=_admin(principal),
                                  username=data.username, password=data.password,
                                  display_name=data.display_name)
    return user_read(user)


@router.post("/admin/users/{user_id}/roles", response_model=UserAdminRead)
def grant_role(user_id: uuid.UUID, data: RoleChange, session: SessionDep,
               principal: CurrentPrincipal) -> UserAdminRead:
    """Grant a scoped role (admins)."""
    user = admin.get_user(session=session, actor=_admin(principal), user_id=user_id)
    account_service.grant(session=session, actor=principal, user=user, role=data.role,
                          scope_type=data.scope_type, scope_value=data.scope_value)
    return user_read(user)


@router.post("/admin/users/{user_id}/roles/revoke", response_model=UserAdminRead)
def revoke_role(user_id: uuid.UUID, data: RoleChange, session: SessionDep,
                principal: CurrentPrincipal) -> UserAdminRead:
    """Take back a scoped role (admins)."""
    admin.revoke_role(session=session, actor=_admin(principal), user_id=user_id,
                      role=data.role, scope_type=data.scope_type,
                      scope_value=data.scope_value)
    return user_read(admin.get_user(session=session, actor=principal, user_id=user_id))


@router.post("/admin/users/{user_id}/deactivate", response_model=UserAdminRead)
def deactivate(user_id: uuid.UUID, session: SessionDep,
               principal: CurrentPrincipal) -> UserAdminRead:
    """Deactivate an account: its logins and tokens stop working at once (admins)."""
    return user_read(admin.set_active(session=session, actor=_admin(principal),
                                      user_id=user_id, active=False))


@router.post("/admin/users/{user_id}/activate", response_model=UserAdminRead)
def activate(user_id: uuid.UUID, session: SessionDep,
             principal: CurrentPrincipal) -> UserAdminRead:
    """Reactivate an account (admins)."""
    return user_read(admin.set_active(session=session, actor=_admin(principal),
                                      user_id=user_id, active=True))


@router.post("/admin/users/{user_id}/reset-password", response_model=TemporaryPasswordRead)
def reset_password(user_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                   principal: CurrentPrincipal) -> TemporaryPasswordRead:
    """Reset a password: a one-time temporary one, shown once (admins)."""
    return TemporaryPasswordRead(temporary_password=admin.reset_password(
        session=session, rt=rt, actor=_admin(principal), user_id=user_id))


@router.post("/admin/users/{user_id}/reset-second-factor", response_model=UserAdminRead)
def reset_second_factor(user_id: uuid.UUID, session: SessionDep,
                        principal: CurrentPrincipal) -> UserAdminRead:
    """Take a user's second factor away (a lost phone); they set it up again (admins)."""
    return user_read(second_factor.reset(session=session, actor=_admin(principal),
                                         user_id=user_id))
