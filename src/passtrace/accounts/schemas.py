"""Login, token and registration shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    """Username and password for an API token; the code from the authenticator app (or a
    recovery code) too when the account has a second factor."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    code: str | None = Field(default=None, max_length=32)


class TokenRead(BaseModel):
    """A freshly issued bearer token (shown once)."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class RegisterRequest(BaseModel):
    """A resident signs up with their identity."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=8, max_length=200)
    name: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=1, max_length=24)
    phone: str | None = Field(default=None, max_length=20)
    # A claim code from the office that registered you; without one the account is
    # created unlinked (bind later at /me/bind).
    claim_code: str | None = Field(default=None, max_length=20)


class BindRequest(BaseModel):
    """Link the logged-in account to a person: their identity and a claim code."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=1, max_length=24)
    phone: str | None = Field(default=None, max_length=20)
    claim_code: str = Field(min_length=1, max_length=20)


class ClaimCodeRead(BaseModel):
    """A claim code, shown once: hand it to the person with their name as you hold it."""

    code: str
    expires_at: datetime


class SmsCodeRequest(BaseModel):
    """Ask for a code texted to the phone on file for this ID number and name."""

    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(max_length=24)
    name: str = Field(max_length=40)


class SmsCodeConfirm(BaseModel):
    """The code from the text message."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=12)


class SmsCodeSent(BaseModel):
    """The same answer whether or not the details matched (no enumeration)."""

    message: str


class UnbindRequest(BaseModel):
    """Why a wrongly linked account is unlinked (recorded and told to the account)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=300)


class BindingRead(BaseModel):
    """A role in a scope."""

    role: str
    scope_type: str
    scope_value: str


class MeRead(BaseModel):
    """The logged-in user."""

    id: uuid.UUID
    username: str
    display_name: str
    person_id: uuid.UUID | None
    locale: str | None
    roles: list[BindingRead]
    # Unlinked accounts: how to link (a claim code from your compound office or HR).
    bind_hint: str | None = None


class LocaleUpdate(BaseModel):
    """A language choice."""

    model_config = ConfigDict(extra="forbid")

    locale: Literal["zh_CN", "en"]


class PasswordChange(BaseModel):
    """The user's current password and the new one."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class TemporaryPasswordRead(BaseModel):
    """A one-time password from an admin's reset: shown once, changed at next login."""

    temporary_password: str


class RoleChange(BaseModel):
    """One scoped role to grant or take back."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: str = Field(min_length=1, max_length=32)
    scope_type: str = Field(default="global", max_length=16)
    scope_value: str = Field(default="", max_length=64)


class UserCreate(BaseModel):
    """An admin creates an account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class UserAdminRead(BaseModel):
    """One account as an admin sees it."""

    id: uuid.UUID
    username: str
    display_name: str
    is_active: bool
    must_change_password: bool
    second_factor: bool = False  # a confirmed TOTP second factor
    roles: list[BindingRead]
