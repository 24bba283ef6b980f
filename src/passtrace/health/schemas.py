"""Health request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Level = Literal["green", "yellow", "red"]


class FlagRead(BaseModel):
    """One live flag and why, in plain words."""

    id: uuid.UUID
    level: Literal["yellow", "red"]
    explanation: str
    note: str = ""  # a status set by hand: the officials' reason
    since: datetime
    until: datetime | None
    appeal: Literal["pending", "granted", "refused"] | None = None


class HistoryRead(BaseModel):
    """One step of the status history."""

    at: datetime
    event: str  # translated: raised, cleared, expired
    explanation: str
    before: Level
    after: Level


class StatusRead(BaseModel):
    """A person's status as they (or an official over them) see it."""

    person_id: uuid.UUID
    status: Level
    label: str
    name: str  # masked
    updated_at: datetime
    until: datetime | None
    flags: list[FlagRead]
    history: list[HistoryRead]
    code: str | None = None  # the signed status code (the person's own view only)


class AppealCreate(BaseModel):
    """The person appeals one flag with a statement."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    flag_id: uuid.UUID
    statement: str = Field(min_length=4, max_length=500)


class AppealRead(BaseModel):
    """An appeal and its decision."""

    id: uuid.UUID
    flag_id: uuid.UUID
    person_id: uuid.UUID
    statement: str
    due_at: datetime
    overdue: bool
    escalated: bool = False  # past its deadline, the officials above were told
    state: Literal["pending", "granted", "refused"]
    decision_reason: str


class AppealDecision(BaseModel):
    """Grant (the flag is cleared) or refuse, with a reason the person reads."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    grant: bool
    reason: str = Field(min_length=4, max_length=500)


class ProposalCreate(BaseModel):
    """Propose a status by hand; a second official must approve it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person_id: uuid.UUID
    level: Level
    reason: str = Field(min_length=4, max_length=500)
    until: AwareDatetime | None = None


class ProposalRead(BaseModel):
    """A proposal and its decision."""

    id: uuid.UUID
    person_id: uuid.UUID
    level: Level
    reason: str
    until: datetime | None
    state: Literal["pending", "approved", "refused"]
    mine: bool
    created_at: datetime
    decided_at: datetime | None
    decision_note: str


class ProposalDecision(BaseModel):
    """Approve or refuse another official's proposal (a note is needed to refuse)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    approve: bool
    note: str = Field(default="", max_length=500)


class AppealPage(BaseModel):
    """One page of appeals."""

    items: list[AppealRead]
    next: str | None = None


class ProposalPage(BaseModel):
    """One page of proposals."""

    items: list[ProposalRead]
    next: str | None = None


class FlaggedPerson(BaseModel):
    """A person red or yellow now in the official's areas (masked)."""

    id: uuid.UUID
    name_masked: str
    id_masked: str
    level: Literal["red", "yellow"]


class FlaggedPage(BaseModel):
    """One page of the people behind the dashboard's red or yellow count."""

    items: list[FlaggedPerson]
    next: str | None = None


class StatusList(BaseModel):
    """The signed status list for offline checkpoints (verify with the revocation-list key)."""

    version: int
    count: int
    signed: str


class StatusCodeText(BaseModel):
    """A scanned or pasted status code ("ST1:...")."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=2000)


class StatusCodeCheck(BaseModel):
    """A verified status code: the holder's status now and what the code said."""

    level: Level
    label: str  # translated colour name
    code_level: Level
    changed_since: bool
    holder: str  # masked name
    id_last4: str
    updated_at: datetime
    valid_until: datetime  # the code's own expiry
