"""Account care forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from pydantic import ConfigDict

from passtrace.accounts.schemas import PasswordChange, RoleChange, UserCreate
from passtrace.web.forms import FormModel


class UserForm(UserCreate):
    """Create an account (admins); the page's fields are the API's."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    def parse(self) -> UserCreate:
        """Validate with the API's rules."""
        return UserCreate.model_validate(self.model_dump())


class RoleForm(RoleChange):
    """Grant or take back a scoped role (admins)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    def parse(self) -> RoleChange:
        """Validate with the API's rules."""
        return RoleChange.model_validate(self.model_dump())


class PasswordForm(PasswordChange):
    """Change your own password."""

    model_config = ConfigDict(extra="ignore")

    def parse(self) -> PasswordChange:
        """Validate with the API's rules."""
        return PasswordChange.model_validate(self.model_dump())


class ActiveForm(FormModel):
    """Deactivate or reactivate an account (admins): "true" reactivates."""

    active: str = "false"

    @property
    def is_active(self) -> bool:
        """Whether the account is to be active."""
        return self.active.strip() == "true"
