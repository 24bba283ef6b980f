"""Your second factor: set it up (QR code, secret to type, confirm with a code) and
renew the recovery codes. The login's code step is in accounts.pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from passtrace.accounts import second_factor
from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.codec.qr import qr_svg
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)
TEMPLATE = "accounts/second_factor.html"


def _page(request: Request, session: Session, rt: Runtime, principal: Principal, *,
          codes: list[str] | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> Response:
    user = session.get(User, principal.user_id)
    enabled = user is not None and account_service.second_factor_enabled(user)
    context: dict[str, object] = {
        "enabled": enabled, "codes": codes, "errors": errors or {},
        "required": user is not None and account_service.second_factor_missing(
            user, rt.settings.second_factor_enforced)}
    if not enabled:
        enrolment = second_factor.start_enrolment(session=session, rt=rt, actor=principal)
        # segno's SVG (our own markup, no user text in it) inline: no image request.
        context["qr"] = Markup(qr_svg(enrolment.uri, scale=5).decode())  # noqa: S704
        context["secret"] = enrolment.secret_grouped
    return render(request, TEMPLATE, context, status_code=status)


@router.get("/account/second-factor")
def second_factor_page(request: Request, session: SessionDep, rt: RuntimeDep,
                       principal: CurrentPrincipal) -> Response:
    """Set up the second factor, or see that it is on."""
    return _page(request, session, rt, principal)


@router.post("/account/second-factor")
def confirm(request: Request, session: SessionDep, rt: RuntimeDep,
            principal: CurrentPrincipal,
            code: Annotated[str, Form(max_length=32)] = "") -> Response:
    """Confirm the app works with one of its codes; show the recovery codes once."""
    return forms.attempt(session, lambda: _page(
        request, session, rt, principal,
        codes=second_factor.confirm_enrolment(session=session, rt=rt, actor=principal,
                                              code=code)),
        lambda f: _page(request, session, rt, principal, errors=f.errors_or_message,
                        status=f.status))


@router.post("/account/second-factor/recovery-codes")
def renew_codes(request: Request, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal) -> Response:
    """New recovery codes (the old ones stop working), shown once."""
    return forms.attempt(session, lambda: _page(
        request, session, rt, principal,
        codes=second_factor.new_recovery_codes(session=session, actor=principal)),
        lambda f: _page(request, session, rt, principal, errors=f.errors_or_message,
                        status=f.status))
