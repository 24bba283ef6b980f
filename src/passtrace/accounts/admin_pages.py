"""Account care pages: your password; for admins, /admin/users (find, create, roles,
deactivate, reset). Every change goes through accounts.admin and is audited there."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.accounts import admin, second_factor
from passtrace.accounts import service as account_service
from passtrace.accounts.admin_forms import ActiveForm, PasswordForm, RoleForm, UserForm
from passtrace.accounts.admin_views import current_token, search, user_read
from passtrace.accounts.role_labels import department_names, role_label, scope_label
from passtrace.accounts.schemas import PasswordChange, RoleChange, UserAdminRead, UserCreate
from passtrace.core.errors import Forbidden
from passtrace.core.runtime import Runtime
from passtrace.core.security import ROLES, SCOPE_TYPES, Principal
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


def _admin(principal: Principal) -> Principal:
    if not principal.has(admin.MANAGE):
        raise Forbidden("Your role does not allow this.")
    return principal


@router.get("/account/password")
def password_form(request: Request, principal: CurrentPrincipal) -> Response:
    """The form to change your password."""
    return render(request, "accounts/password.html", {"values": {}, "errors": {}})


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, rt: RuntimeDep,
                    principal: CurrentPrincipal,
                    form: Annotated[PasswordForm, Form()]) -> Response:
    """Change your password; your other logins end."""
    def save(data: PasswordChange) -> Response:
        admin.change_password(session=session, rt=rt, actor=principal,
                              current=data.current_password, new=data.password,
                              token=current_token(request))
        return render(request, "accounts/password.html",
                      {"values": {}, "errors": {}, "done": True})

    return forms.submit(session, form, save, lambda f: render(
        request, "accounts/password.html", {"values": {}, "errors": f.errors_or_message},
        status_code=f.status))


def _departments(session: Session, users: list[UserAdminRead]) -> dict[str, str]:
    """Name the departments the shown users head (their scope value is an id)."""
    return department_names(session, {b.scope_value for u in users for b in u.roles
                                      if b.scope_type == "department"})


def _list_page(request: Request, session: SessionDep, principal: Principal,
               q: str, role: str, scope: str, values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> Response:
    users = [user_read(u) for u in search(session=session, actor=principal, q=q, role=role,
                                          scope=scope)]
    return render(request, "accounts/admin_users.html", {
        "users": users, "q": q, "role": role, "scope": scope,
        "roles": ROLES, "role_label": role_label, "scope_label": scope_label,
        "departments": _departments(session, users),
        "values": values or {}, "errors": errors or {}}, status_code=status)


@router.get("/admin/users")
def user_list(request: Request, session: SessionDep, principal: CurrentPrincipal,
              q: str = "", role: str = "", scope: str = "") -> Response:
    """Find accounts by name, role and scope; create one."""
    return _list_page(request, session, _admin(principal), q[:64], role[:32], scope[:64])


@router.post("/admin/users")
def create_user(request: Request, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal, form: Annotated[UserForm, Form()]) -> Response:
    """Create an account from the form; errors come back next to the fields."""
    _admin(principal)

    def save(data: UserCreate) -> Response:
        user = account_service.create(session=session, rt=rt, actor=principal,
                                      username=data.username, password=data.password,
                                      display_name=data.display_name)
        return RedirectResponse(f"/admin/users/{user.id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _list_page(
        request, session, principal, "", "", "", values={**f.values, "password": ""},
        errors=f.errors_or_message, status=f.status))


def _user_page(request: Request, session: SessionDep, principal: Principal,
               user_id: uuid.UUID, **extra: Any) -> Response:
    user = user_read(admin.get_user(session=session, actor=principal, user_id=user_id))
    status = extra.pop("status", 200)
    return render(request, "accounts/admin_user.html", {
        "user": user, "roles": ROLES, "scope_types": SCOPE_TYPES,
        "role_label": role_label, "scope_label": scope_label,
        "departments": _departments(session, [user]),
        "values": {}, "errors": {}, **extra}, status_code=status)


@router.get("/admin/users/{user_id}")
def user_detail(request: Request, user_id: uuid.UUID, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """One account: its roles and what an admin can do with it."""
    return _user_page(request, session, _admin(principal), user_id)


def _role_change(request: Request, session: SessionDep, principal: Principal,
                 user_id: uuid.UUID, form: RoleForm, grant: bool) -> Response:
    def save(data: RoleChange) -> Response:
        if grant:
            account_service.grant(session=session, actor=principal,
                                  user=admin.get_user(session=session, actor=principal,
                                                      user_id=user_id),
                                  role=data.role, scope_type=data.scope_type,
                                  scope_value=data.scope_value)
        else:
            admin.revoke_role(session=session, actor=principal, user_id=user_id,
                              role=data.role, scope_type=data.scope_type,
                              scope_value=data.scope_value)
        return RedirectResponse(f"/admin/users/{user_id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _user_page(
        request, session, principal, user_id, values=f.values,
        errors=f.errors_or_message, status=f.status))


@router.post("/admin/users/{user_id}/roles")
def grant_role(request: Request, user_id: uuid.UUID, session: SessionDep,
               principal: CurrentPrincipal, form: Annotated[RoleForm, Form()]) -> Response:
    """Grant a scoped role."""
    return _role_change(request, session, _admin(principal), user_id, form, grant=True)


@router.post("/admin/users/{user_id}/roles/revoke")
def revoke_role(request: Request, user_id: uuid.UUID, session: SessionDep,
                principal: CurrentPrincipal, form: Annotated[RoleForm, Form()]) -> Response:
    """Take back a scoped role."""
    return _role_change(request, session, _admin(principal), user_id, form, grant=False)


@router.post("/admin/users/{user_id}/active")
def set_active(request: Request, user_id: uuid.UUID, session: SessionDep,
               principal: CurrentPrincipal,
               form: Annotated[ActiveForm, Form()]) -> Response:
    """Deactivate (logins stop at once) or reactivate."""
    _admin(principal)
    return forms.attempt(session, lambda: (
        admin.set_active(session=session, actor=principal, user_id=user_id,
                         active=form.is_active),
        RedirectResponse(f"/admin/users/{user_id}", status_code=303))[1],
        lambda f: _user_page(request, session, principal, user_id,
                             errors=f.errors_or_message, status=f.status))


@router.post("/admin/users/{user_id}/reset-password")
def reset_password(request: Request, user_id: uuid.UUID, session: SessionDep,
                   rt: RuntimeDep, principal: CurrentPrincipal) -> Response:
    """Reset the password and show the temporary one, once."""
    _admin(principal)
    return forms.attempt(session, lambda: _user_page(
        request, session, principal, user_id,
        temporary=_reset(session, rt, principal, user_id)),
        lambda f: _user_page(request, session, principal, user_id,
                             errors=f.errors_or_message, status=f.status))


@router.post("/admin/users/{user_id}/reset-second-factor")
def reset_second_factor(request: Request, user_id: uuid.UUID, session: SessionDep,
                        principal: CurrentPrincipal) -> Response:
    """Take the user's second factor away; they set it up again at their next login."""
    _admin(principal)
    return forms.attempt(session, lambda: (
        second_factor.reset(session=session, actor=principal, user_id=user_id),
        RedirectResponse(f"/admin/users/{user_id}", status_code=303))[1],
        lambda f: _user_page(request, session, principal, user_id,
                             errors=f.errors_or_message, status=f.status))


def _reset(session: SessionDep, rt: Runtime, principal: Principal, user_id: uuid.UUID) -> str:
    return admin.reset_password(session=session, rt=rt, actor=principal, user_id=user_id)
