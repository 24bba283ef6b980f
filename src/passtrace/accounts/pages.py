"""Account pages: log in and out, sign up, language (the home page is passtrace.home)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.accounts import attempts, binding, flows, second_factor, sms_binding
from passtrace.accounts import service as account_service
from passtrace.accounts.forms import (
    REGISTER_MESSAGES,
    BindForm,
    LanguageForm,
    LoginForm,
    RegisterForm,
    SmsConfirmForm,
    SmsRequestForm,
)
from passtrace.accounts.models import User
from passtrace.accounts.schemas import (
    BindRequest,
    RegisterRequest,
    SmsCodeConfirm,
    SmsCodeRequest,
    TokenRequest,
)
from passtrace.core.errors import DomainError, Forbidden, RateLimited
from passtrace.core.i18n import LOCALES, get_locale, gettext, set_locale
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal, new_token
from passtrace.web import forms
from passtrace.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    CurrentPrincipal,
    OptionalPrincipal,
    RuntimeDep,
    SessionDep,
    client_ip,
)
from passtrace.web.forms import Failure
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
def login(request: Request, session: SessionDep, rt: RuntimeDep,
          form: Annotated[LoginForm, Form()]) -> Response:
    """Check the login and start a browser session."""
    _check_pre_csrf(request, form.csrf_token)

    def start(data: TokenRequest) -> Response:
        user = account_service.authenticate(session=session, rt=rt, username=data.username,
                                            password=data.password, ip=client_ip(request))
        if account_service.second_factor_enabled(user):
            # Not logged in yet: a short pending login that only the code page accepts.
            pending = second_factor.start_pending(session=session, user=user)
            response = RedirectResponse(f"/login/code?next={quote(_safe_next(form.next))}",
                                        status_code=303)
            response.set_cookie(PENDING_COOKIE, pending, httponly=True, samesite="lax",
                                secure=rt.settings.env == "prod",
                                max_age=second_factor.PENDING_MINUTES * 60)
            return response
        return _login_response(session, rt, user, request, form.next)

    def page(f: Failure) -> Response:
        response = _anonymous_form(request, "login.html", {
            "next": _safe_next(form.next), "error": f.first_error,
            "username": form.username}, status_code=f.status)
        response.headers.update(f.headers)
        return response

    # A refused login keeps its failure count and audit entry (the throttle needs them).
    return forms.submit(session, form, start, page, keep_refusal=True)


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
def register(request: Request, session: SessionDep, rt: RuntimeDep,
             form: Annotated[RegisterForm, Form()]) -> Response:
    """Create the account and log in: linked with a claim code, else to /me/bind."""
    _check_pre_csrf(request, form.csrf_token)

    def save(data: RegisterRequest) -> Response:
        user = flows.register_resident(session=session, rt=rt, data=data, ip=client_ip(request))
        return _login_response(session, rt, user, request,
                               "/passes/mine" if user.person_id else "/me/bind")

    # What was typed comes back, except the password, ID number and claim code.
    values = {"username": form.username, "name": form.name, "phone": form.phone}
    return forms.submit(
        session, form, save, lambda f: _anonymous_form(request, "register.html", {
            "errors": f.errors_or_message, "message": f.message, "values": values},
            status_code=f.status),
        messages=REGISTER_MESSAGES, count=lambda: attempts.check(
            session=session, vault=rt.vault, ip=client_ip(request), id_number=form.id_number))


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
def bind(request: Request, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
         form: Annotated[BindForm, Form()]) -> Response:
    """Link the account with a claim code from the compound office or HR."""
    def save(data: BindRequest) -> Response:
        binding.bind_with_claim_code(session=session, rt=rt, user=_user_of(session, principal),
                                     id_number=data.id_number, name=data.name,
                                     phone=data.phone, code=data.claim_code, actor=principal)
        return RedirectResponse("/passes/mine", status_code=303)

    values = {"name": form.name, "phone": form.phone}
    return forms.submit(session, form, save, lambda f: _bind_page(
        request, principal, f.errors, values, status_code=f.status, message=f.message),
        count=_counted(request, session, rt, form.id_number))


@router.post("/me/bind/sms")
def request_sms_code(request: Request, session: SessionDep, rt: RuntimeDep,
                     principal: CurrentPrincipal,
                     form: Annotated[SmsRequestForm, Form()]) -> Response:
    """Text a code to the phone on file (same answer whether or not the details match)."""
    values = {"sms_name": form.name}

    def send(data: SmsCodeRequest) -> Response:
        user = _user_of(session, principal)
        sms_binding.request_code(session=session, rt=rt, user=user, id_number=data.id_number,
                                 name=data.name, locale=user.locale or get_locale())
        return _bind_page(request, principal, {}, values,
                          sms_message=gettext(sms_binding.REQUEST_ANSWER), sms_sent=True)

    return forms.submit(session, form, send, lambda f: _bind_page(
        request, principal, f.errors, values, status_code=f.status, sms_message=f.message,
        sms_error=True), count=_counted(request, session, rt, form.id_number))


@router.post("/me/bind/sms/confirm")
def confirm_sms_code(request: Request, session: SessionDep, rt: RuntimeDep,
                     principal: CurrentPrincipal,
                     form: Annotated[SmsConfirmForm, Form()]) -> Response:
    """Link the account with the texted code."""
    def page(f: Failure) -> Response:
        return _bind_page(request, principal, f.errors, {}, status_code=f.status,
                          sms_message=f.message, sms_sent=True, sms_error=True)

    def confirm(data: SmsCodeConfirm) -> Response:
        if sms_binding.confirm_code(session=session, rt=rt, user=_user_of(session, principal),
                                    code=data.code, actor=principal) is None:
            # Answered, not raised: the wrong try stays counted towards locking the code.
            return page(Failure.of(sms_binding.SmsCodeRefused()))
        return RedirectResponse("/passes/mine", status_code=303)

    return forms.submit(session, form, confirm, page, count=_counted(request, session, rt, None))


def _counted(request: Request, session: Session, rt: Runtime,
             id_number: str | None) -> Callable[[], None]:
    """Count a binding attempt (kept even when the binding is refused)."""
    return lambda: attempts.check(session=session, vault=rt.vault, ip=client_ip(request),
                                  id_number=id_number)


def _user_of(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id)
    if user is None:
        raise Forbidden("Your role does not allow this.")
    return user


@router.post("/lang")
def choose_language(request: Request, session: SessionDep, principal: OptionalPrincipal,
                    form: Annotated[LanguageForm, Form()]) -> Response:
    """Switch the interface language (remembered for logged-in users)."""
    locale = form.locale if form.locale in LOCALES else "zh_CN"
    if principal is not None:
        account_service.set_locale(session=session, actor=principal, locale=locale)
    set_locale(locale)
    response = RedirectResponse(_safe_next(form.next), status_code=303)
    response.set_cookie(LANG_COOKIE, locale, samesite="lax", max_age=365 * 86400)
    return response
