"""Account pages: log in and out, sign up, language (the home page is passtrace.home)."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.accounts import attempts, binding, flows, second_factor, sms_binding
from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.accounts.schemas import RegisterRequest
from passtrace.core.errors import DomainError, Forbidden, RateLimited
from passtrace.core.i18n import LOCALES, get_locale, gettext, set_locale
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal, new_token
from passtrace.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    CurrentPrincipal,
    OptionalPrincipal,
    RuntimeDep,
    SessionDep,
    client_ip,
)
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)
PRE_CSRF_COOKIE = "pt_precsrf"
PENDING_COOKIE = "pt_pending"  # a login whose password was right, waiting for its code


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so a crafted link cannot bounce users to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _anonymous_form(request: Request, template: str, context: dict[str, object],
                    status_code: int = 200) -> Response:
    token = request.cookies.get(PRE_CSRF_COOKIE) or new_token()
    response = render(request, template, {**context, "csrf_token": token},
                      status_code=status_code)
    response.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, samesite="lax")
    return response


def _check_pre_csrf(request: Request, supplied: str) -> None:
    expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, supplied):
        raise Forbidden("The form expired or did not come from this site. Please reload the page.",
                        code="csrf")


def _login_response(session: Session, rt: Runtime, user: User, request: Request,
                    target: str) -> Response:
    token, record = account_service.start_session(session=session, rt=rt, user=user, kind="web",
                                                  ip=client_ip(request))
    # After an admin's reset the account has no role until its owner picks a password;
    # an official or admin none until they set up the second factor where required.
    if user.must_change_password:
        target = "/account/password"
    elif account_service.second_factor_missing(user, rt.settings.second_factor_enforced):
        target = "/account/second-factor"
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=rt.settings.env == "prod",
                        max_age=rt.settings.session_hours * 3600)
    if user.locale:
        response.set_cookie(LANG_COOKIE, user.locale, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/login")
def login_form(request: Request, principal: OptionalPrincipal, next: str = "/") -> Response:
    """Show the login form (or go home when already logged in)."""
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _anonymous_form(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request, session: SessionDep, rt: RuntimeDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the login and start a browser session."""
    _check_pre_csrf(request, csrf_token)
    try:
        user = account_service.authenticate(session=session, rt=rt, username=username.strip(),
                                            password=password, ip=client_ip(request))
    except DomainError as exc:
        # Returning (not raising) commits the failure count and its audit entry.
        response = _anonymous_form(request, "login.html",
                                   {"next": _safe_next(next), "error": exc.translated(),
                                    "username": username}, status_code=exc.status)
        if isinstance(exc, RateLimited) and exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if account_service.second_factor_enabled(user):
        # Not logged in yet: a short pending login that only the code page accepts.
        pending = second_factor.start_pending(session=session, user=user)
        response = RedirectResponse(f"/login/code?next={quote(_safe_next(next))}",
                                    status_code=303)
        response.set_cookie(PENDING_COOKIE, pending, httponly=True, samesite="lax",
                            secure=rt.settings.env == "prod",
                            max_age=second_factor.PENDING_MINUTES * 60)
        return response
    return _login_response(session, rt, user, request, next)


@router.get("/login/code")
def code_form(request: Request, session: SessionDep, next: str = "/") -> Response:
    """Ask for the authenticator app's code (the password was right)."""
    if second_factor.pending_user(session=session,
                                  token=request.cookies.get(PENDING_COOKIE)) is None:
        return RedirectResponse("/login", status_code=303)
    return _anonymous_form(request, "accounts/login_code.html",
                           {"next": _safe_next(next), "error": None})


@router.post("/login/code")
def login_code(
    request: Request, session: SessionDep, rt: RuntimeDep,
    code: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the code and start the browser session."""
    _check_pre_csrf(request, csrf_token)
    pending = request.cookies.get(PENDING_COOKIE)
    user_id = second_factor.pending_user(session=session, token=pending)
    if pending is None or user_id is None:  # expired: the password again
        return RedirectResponse("/login", status_code=303)
    try:
        user = second_factor.check_code(session=session, rt=rt, user_id=user_id, code=code,
                                        ip=client_ip(request))
    except DomainError as exc:
        session.commit()  # the failure counts towards the login throttle
        response = _anonymous_form(request, "accounts/login_code.html",
                                   {"next": _safe_next(next), "error": exc.translated()},
                                   status_code=exc.status)
        if isinstance(exc, RateLimited) and exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    second_factor.finish_pending(session=session, token=pending)
    response = _login_response(session, rt, user, request, next)
    response.delete_cookie(PENDING_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """End the browser session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        account_service.end_session(session=session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/register")
def register_form(request: Request) -> Response:
    """Show the resident sign-up form."""
    return _anonymous_form(request, "register.html", {"errors": {}, "values": {}})


@router.post("/register")
def register(
    request: Request, session: SessionDep, rt: RuntimeDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=40)] = "",
    id_number: Annotated[str, Form(max_length=24)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    claim_code: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Create the account and log in: linked with a claim code, else to /me/bind."""
    _check_pre_csrf(request, csrf_token)
    values = {"username": username, "name": name, "phone": phone}
    try:
        attempts.check(session=session, vault=rt.vault, ip=client_ip(request),
                       id_number=id_number)
        data = RegisterRequest.model_construct(username=username.strip(), password=password,
                                               name=name, id_number=id_number,
                                               phone=phone.strip() or None,
                                               claim_code=claim_code.strip() or None)
        user = flows.register_resident(session=session, rt=rt, data=data, ip=client_ip(request))
    except DomainError as exc:
        session.rollback()
        errors = exc.translated_fields() or {"form": exc.translated()}
        return _anonymous_form(request, "register.html",
                               {"errors": errors, "message": exc.translated(), "values": values},
                               status_code=exc.status)
    return _login_response(session, rt, user, request,
                           "/passes/mine" if user.person_id else "/me/bind")


def _bind_page(request: Request, principal: Principal, errors: dict[str, str],
               values: dict[str, str], status_code: int = 200,
               message: str | None = None, sms_message: str | None = None,
               sms_sent: bool = False, sms_error: bool = False) -> Response:
    return render(request, "accounts/bind.html", {
        "linked": principal.person_id is not None, "errors": errors, "values": values,
        "message": message, "sms_message": sms_message, "sms_sent": sms_sent,
        "sms_error": sms_error},
        status_code=status_code)


@router.get("/me/bind")
def bind_form(request: Request, principal: CurrentPrincipal) -> Response:
    """How to link this account to an ID number, and the form to do it with a claim code."""
    return _bind_page(request, principal, {}, {})


@router.post("/me/bind")
def bind(
    request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
    name: Annotated[str, Form(max_length=40)] = "",
    id_number: Annotated[str, Form(max_length=24)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    claim_code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Link the account with a claim code from the compound office or HR."""
    values = {"name": name, "phone": phone}
    try:
        attempts.check(session=session, vault=rt.vault, ip=client_ip(request),
                       id_number=id_number)
        user = session.get(User, principal.user_id)
        if user is None:
            raise Forbidden("Your role does not allow this.")
        binding.bind_with_claim_code(session=session, rt=rt, user=user, id_number=id_number,
                                     name=name, phone=phone.strip() or None, code=claim_code,
                                     actor=principal)
    except DomainError as exc:
        session.rollback()
        return _bind_page(request, principal, exc.translated_fields() or {},
                          values, status_code=exc.status, message=exc.translated())
    return RedirectResponse("/passes/mine", status_code=303)


@router.post("/me/bind/sms")
def request_sms_code(
    request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
    name: Annotated[str, Form(max_length=40)] = "",
    id_number: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    """Text a code to the phone on file (same answer whether or not the details match)."""
    values = {"sms_name": name}
    try:
        attempts.check(session=session, vault=rt.vault, ip=client_ip(request),
                       id_number=id_number)
        user = _user_of(session, principal)
        sms_binding.request_code(session=session, rt=rt, user=user, id_number=id_number,
                                 name=name, locale=user.locale or get_locale())
    except DomainError as exc:
        session.rollback()
        return _bind_page(request, principal, exc.translated_fields() or {}, values,
                          status_code=exc.status, sms_message=exc.translated(),
                          sms_error=True)
    return _bind_page(request, principal, {}, values,
                      sms_message=gettext(sms_binding.REQUEST_ANSWER), sms_sent=True)


@router.post("/me/bind/sms/confirm")
def confirm_sms_code(
    request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
    sms_code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Link the account with the texted code."""
    try:
        attempts.check(session=session, vault=rt.vault, ip=client_ip(request), id_number=None)
        user = _user_of(session, principal)
        if sms_binding.confirm_code(session=session, rt=rt, user=user, code=sms_code,
                                    actor=principal) is None:
            session.commit()  # the wrong try counts towards locking the code
            raise sms_binding.SmsCodeRefused()
    except DomainError as exc:
        session.rollback()
        return _bind_page(request, principal, exc.translated_fields() or {}, {},
                          status_code=exc.status, sms_message=exc.translated(), sms_sent=True,
                          sms_error=True)
    return RedirectResponse("/passes/mine", status_code=303)


def _user_of(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id)
    if user is None:
        raise Forbidden("Your role does not allow this.")
    return user


@router.post("/lang")
def choose_language(
    request: Request, session: SessionDep, principal: OptionalPrincipal,
    locale: Annotated[str, Form()] = "zh_CN", next: Annotated[str, Form()] = "/",
) -> Response:
    """Switch the interface language (remembered for logged-in users)."""
    if locale not in LOCALES:
        locale = "zh_CN"
    if principal is not None:
        account_service.set_locale(session=session, actor=principal, locale=locale)
    set_locale(locale)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, locale, samesite="lax", max_age=365 * 86400)
    return response


