"""Accounts API: tokens, the current user, self-registration."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from passtrace.accounts import attempts, binding, flows, second_factor, sms_binding
from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.accounts.schemas import (
    BindingRead,
    BindRequest,
    LocaleUpdate,
    MeRead,
    RegisterRequest,
    SmsCodeConfirm,
    SmsCodeRequest,
    SmsCodeSent,
    TokenRead,
    TokenRequest,
    UnbindRequest,
)
from passtrace.core.errors import Forbidden, NotFound, Unauthorized
from passtrace.core.i18n import get_locale, gettext
from passtrace.core.security import Principal
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep, bearer_token, client_ip
from passtrace.web.openapi import errors

router = APIRouter(tags=["accounts"])


@router.post("/auth/token", response_model=TokenRead, responses=errors(401, 403, 429))
def issue_token(data: TokenRequest, request: Request, session: SessionDep,
                rt: RuntimeDep) -> TokenRead:
    """Exchange a username and password (and, with a second factor, its code) for a
    bearer token."""
    ip = client_ip(request)
    try:
        user = account_service.authenticate(session=session, rt=rt, username=data.username,
                                            password=data.password, ip=ip)
        if account_service.second_factor_enabled(user):
            if not data.code:
                raise Unauthorized("Enter the code from your authenticator app as well.",
                                   code="second_factor_required")
            user = second_factor.check_code(session=session, rt=rt, user_id=user.id,
                                            code=data.code, ip=ip)
    except Unauthorized:
        # The failure count and its audit entry must outlive the refusal; the request's
        # session would otherwise roll them back with the error.
        session.commit()
        raise
    if account_service.second_factor_missing(user, rt.settings.second_factor_enforced):
        # Set up on the web first (the QR code needs a screen): a token now would hold
        # no role and only puzzle its script.
        raise Forbidden("Set up your second factor on the web (Account, Second factor) "
                        "before asking for an API token.", code="second_factor_setup")
    token, record = account_service.start_session(session=session, rt=rt, user=user, kind="api",
                                                  ip=ip)
    return TokenRead(access_token=token, expires_at=record.expires_at)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> None:
    """Revoke the bearer token used for this request."""
    token = bearer_token(request)
    if token:
        account_service.end_session(session=session, token=token)


@router.post("/accounts/register", response_model=MeRead, status_code=201,
             responses=errors(429))  # too many sign-ups from this address or for this ID number
def register(data: RegisterRequest, request: Request, session: SessionDep,
             rt: RuntimeDep) -> MeRead:
    """Sign up. The account is linked to your ID number only with a claim code from the
    office that registered you; otherwise it is created unlinked (same answer whether or
    not the ID number is known) and you link it later at /me/bind."""
    attempts.check(session=session, vault=rt.vault, ip=client_ip(request),
                   id_number=data.id_number)
    user = flows.register_resident(session=session, rt=rt, data=data, ip=client_ip(request))
    return _me(account_service.principal_for(user))


@router.post("/me/bind", response_model=MeRead, responses=errors(429))
def bind(data: BindRequest, request: Request, session: SessionDep, rt: RuntimeDep,
         principal: CurrentPrincipal) -> MeRead:
    """Link your account to your ID number with a claim code from your compound or HR."""
    attempts.check(session=session, vault=rt.vault, ip=client_ip(request),
                   id_number=data.id_number)
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    binding.bind_with_claim_code(session=session, rt=rt, user=user, id_number=data.id_number,
                                 name=data.name, phone=data.phone, code=data.claim_code,
                                 actor=principal)
    return _me(account_service.principal_for(user))


@router.post("/me/bind/sms", response_model=SmsCodeSent, status_code=202,
             responses=errors(429))
def request_sms_code(data: SmsCodeRequest, request: Request, session: SessionDep,
                     rt: RuntimeDep, principal: CurrentPrincipal) -> SmsCodeSent:
    """Ask for a one-time code texted to the phone on file for your ID number and name.
    The answer is the same whether or not they match a record."""
    attempts.check(session=session, vault=rt.vault, ip=client_ip(request),
                   id_number=data.id_number)
    user = _own_user(session, principal)
    sms_binding.request_code(session=session, rt=rt, user=user, id_number=data.id_number,
                             name=data.name, locale=user.locale or get_locale())
    return SmsCodeSent(message=gettext(sms_binding.REQUEST_ANSWER))


@router.post("/me/bind/sms/confirm", response_model=MeRead, responses=errors(429))
def confirm_sms_code(data: SmsCodeConfirm, request: Request, session: SessionDep,
                     rt: RuntimeDep, principal: CurrentPrincipal) -> MeRead:
    """Link your account with the code texted to the phone on file."""
    attempts.check(session=session, vault=rt.vault, ip=client_ip(request), id_number=None)
    user = _own_user(session, principal)
    if sms_binding.confirm_code(session=session, rt=rt, user=user, code=data.code,
                                actor=principal) is None:
        session.commit()  # the wrong try counts towards locking the code
        raise sms_binding.SmsCodeRefused()
    return _me(account_service.principal_for(user))


def _own_user(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


@router.post("/people/{person_id}/unbind", status_code=204)
def unbind(person_id: uuid.UUID, data: UnbindRequest, session: SessionDep,
           principal: CurrentPrincipal) -> None:
    """Unlink a wrongly linked account from a person (an official over their area)."""
    binding.unbind(session=session, actor=principal, person_id=person_id, reason=data.reason)


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
                                     scope_value=b.scope_value) for b in principal.bindings],
                  bind_hint=bind_hint() if principal.person_id is None
                  and "public" in principal.roles else None)


def bind_hint() -> str:
    """How an unlinked account gets linked, in the request's language."""
    return gettext("Your account is not linked to an ID number yet. Ask your compound office "
                   "or your employer's HR for a claim code, or have a code texted to the "
                   "phone they hold for you; both at /me/bind.")
