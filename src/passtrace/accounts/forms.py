"""Account page forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from passtrace.accounts.schemas import (
    BindRequest,
    RegisterRequest,
    SmsCodeConfirm,
    SmsCodeRequest,
    TokenRequest,
    UnbindRequest,
)
from passtrace.core.i18n import N_
from passtrace.web.forms import FormModel, text

# Where pydantic's generic message would not say what the account rules are.
REGISTER_MESSAGES = {
    "username": N_("A username is 3-64 letters, digits, dots, dashes or underscores."),
    "password": N_("A password needs at least 10 characters."),
}


class AnonymousForm(FormModel):
    """A form posted before login: its CSRF token is checked against the pre-login cookie
    by the page (web/deps.py checks only logged-in writes)."""

    csrf_token: str = ""


class LoginForm(AnonymousForm):
    """The login form."""

    username: str = ""
    password: str = ""
    next: str = "/"

    def parse(self) -> TokenRequest:
        """Validate with the API's rules."""
        return TokenRequest.model_validate({"username": self.username.strip(),
                                            "password": self.password})


class RegisterForm(AnonymousForm):
    """The resident sign-up form."""

    username: str = ""
    password: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""
    claim_code: str = ""

    def parse(self) -> RegisterRequest:
        """Validate with the API's rules."""
        return RegisterRequest.model_validate({
            "username": self.username, "password": self.password, "name": self.name,
            "id_number": self.id_number, "phone": text(self.phone),
            "claim_code": text(self.claim_code)})


class BindForm(FormModel):
    """Link the account with a claim code."""

    name: str = ""
    id_number: str = ""
    phone: str = ""
    claim_code: str = ""

    def parse(self) -> BindRequest:
        """Validate with the API's rules."""
        return BindRequest.model_validate({
            "name": self.name, "id_number": self.id_number, "phone": text(self.phone),
            "claim_code": self.claim_code.strip()})


class SmsRequestForm(FormModel):
    """Ask for a code texted to the phone on file."""

    name: str = ""
    id_number: str = ""

    def parse(self) -> SmsCodeRequest:
        """Validate with the API's rules."""
        return SmsCodeRequest.model_validate({"name": self.name, "id_number": self.id_number})


class SmsConfirmForm(FormModel):
    """The texted code."""

    sms_code: str = ""

    def parse(self) -> SmsCodeConfirm:
        """Validate with the API's rules."""
        return SmsCodeConfirm.model_validate({"code": self.sms_code.strip()})


class LanguageForm(FormModel):
    """The language switch (in every page's footer)."""

    locale: str = "zh_CN"
    next: str = "/"


class UnbindForm(FormModel):
    """Why a wrongly linked account is unlinked (officials)."""

    reason: str = ""

    def parse(self) -> UnbindRequest:
        """Validate with the API's rules."""
        return UnbindRequest.model_validate({"reason": self.reason.strip()})
