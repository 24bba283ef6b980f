"""Accounts API: tokens, the current user, self-registration."""

from __future__ import annotations

from fastapi import APIRouter, Request

from passtrace.accounts import flows
from passtrace.accounts import service as account_service
from passtrace.accounts.schemas import (
    BindingRead,
    LocaleUpdate,
    MeRead,
    RegisterRequest,
    TokenRead,
    TokenRequest,
)
from passtrace.core.security import Principal
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep, bearer_token, client_ip
from passtrace.web.openapi import errors

router = APIRouter(tags=["accounts"])


@router.post("/auth/token", response_model=TokenRead, responses=errors(401, 429))
def issue_token(data: TokenRequest, request: Request, session: SessionDep,
                rt: RuntimeDep) -> TokenRead:
    """Exchange a username and password for a bearer token."""
    user = account_service.authenticate(session=session, rt=rt, username=data.username,
                                        password=data.password, ip=client_ip(request))
    token, record = account_service.start_session(session=session, rt=rt, user=user, kind="api",
                                                  ip=client_ip(request))
    return TokenRead(access_token=token, expires_at=record.expires_at)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> None:
    """Revoke the bearer token used for this request."""
    token = bearer_token(request)
    if token:
        account_service.end_session(session=session, token=token)


@router.post("/accounts/register", response_model=MeRead, status_code=201)
def register(data: RegisterRequest, request: Request, session: SessionDep,
             rt: RuntimeDep) -> MeRead:
    """Sign up as a resident with an ID number."""
    user = flows.register_resident(session=session, rt=rt, data=data, ip=client_ip(request))
    return _me(account_service.principal_for(user))


@router.get("/me", response_model=MeRead)
def me(principal: CurrentPrincipal) -> MeRead:
    """Describe the logged-in user and their roles."""
    return _me(principal)


@router.put("/me/locale", status_code=204)
def set_locale(data: LocaleUpdate, session: SessionDep, principal: CurrentPrincipal) -> None:
    """Save the user's language."""
    account_service.set_locale(session=session, actor=principal, locale=data.locale)


def _me(principal: Principal) -> MeRead:
    return MeRead(id=principal.user_id, username=principal.username,
                  display_name=principal.display_name, person_id=principal.person_id,
                  locale=principal.locale,
                  roles=[BindingRead(role=b.role, scope_type=b.scope_type,
                                     scope_value=b.scope_value) for b in principal.bindings])
