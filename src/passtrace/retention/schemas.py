"""Retention request shapes (the API's and the page's)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from passtrace.web.forms import FormModel


class DeleteAccountRequest(BaseModel):
    """The account's password, re-entered to confirm."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200)


class DeleteAccountForm(FormModel):
    """The confirmation form on /me/delete-account."""

    password: str = ""

    def parse(self) -> DeleteAccountRequest:
        """Validate with the API's rules."""
        return DeleteAccountRequest.model_validate({"password": self.password})
