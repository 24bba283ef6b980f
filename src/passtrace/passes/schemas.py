"""Pass request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Purpose = Literal["commute", "medical", "supply", "emergency", "other"]


class PassCreate(BaseModel):
    """What a resident fills in to apply for a pass."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Optional client-chosen id (UUID): sending the same application twice creates one pass.
    id: uuid.UUID | None = None
    purpose: Purpose
    reason: str = Field(default="", max_length=500)
    valid_from: datetime
    valid_until: datetime
    areas: list[str] = Field(default_factory=list, max_length=20)
    sites: list[str] = Field(default_factory=list, max_length=20)
    plate: str | None = Field(default=None, max_length=12)
    companions: int = Field(default=0, ge=0, le=9)


class Decision(BaseModel):
    """An approval, rejection or revocation with its reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=500)
    # Revoking someone else's pass: one of passes.coercion.REVOKE_REASONS (required there).
    reason_code: str | None = Field(default=None, max_length=24)


class AreaRef(BaseModel):
    """An area code with its display name."""

    code: str
    name: str


class HolderRead(BaseModel):
    """The pass holder, masked."""

    person_id: uuid.UUID
    name: str
    id_number: str


class PassRead(BaseModel):
    """A pass as its holder or a reviewer sees it."""

    id: uuid.UUID
    status: str
    status_label: str
    purpose: str
    purpose_label: str
    reason: str
    valid_from: datetime
    valid_until: datetime
    areas: list[AreaRef]
    sites: list[str]
    plate: str | None
    companions: int
    holder: HolderRead
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    revoked_at: datetime | None
    revoke_reason: str | None
    revoke_reason_code: str | None = None
    kid: str | None
    token: str | None = None


class PassPage(BaseModel):
    """One page of passes and the cursor to the next."""

    items: list[PassRead]
    next: str | None = None


class BulkApprove(BaseModel):
    """Approve several pending passes with one reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    pass_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=500)


class BulkRefusal(BaseModel):
    """A pass a bulk approval left alone, and why (out of scope, already decided...)."""

    id: uuid.UUID
    code: str
    message: str


class BulkApproveResult(BaseModel):
    """The passes approved, and every one that was not with its reason."""

    approved: list[uuid.UUID]
    refused: list[BulkRefusal]


class RevocationList(BaseModel):
    """Revocations after a version, for offline checkpoints."""

    version: int
    since: int
    complete: bool
    revoked: list[dict[str, object]]
    signed: str
