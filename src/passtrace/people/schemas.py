"""Reveal requests and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RevealRequest(BaseModel):
    """Which field to reveal and why: a purpose from the list and a reason in words."""

    model_config = ConfigDict(extra="forbid")

    field: Literal["id_number", "name", "phone"]
    # One of the purposes in docs/security.md; checked by the service (422 naming it).
    purpose: str | None = Field(default=None, max_length=32)
    reason: str = Field(default="", max_length=300)


class RevealRead(BaseModel):
    """The revealed value (this response is itself audited)."""

    field: str
    value: str


class AccessEntry(BaseModel):
    """One touch of my data: who, when, what, why."""

    at: datetime
    actor: str
    action: str
    reason: str | None


class PersonRead(BaseModel):
    """A person, masked."""

    id: str
    name: str
    id_number: str
    phone: str | None
    status: str
