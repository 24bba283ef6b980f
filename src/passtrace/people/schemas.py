"""Reveal requests and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RevealRequest(BaseModel):
    """Which field to reveal and why."""

    model_config = ConfigDict(extra="forbid")

    field: Literal["id_number", "name", "phone"]
    reason: str = Field(min_length=1, max_length=300)


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
