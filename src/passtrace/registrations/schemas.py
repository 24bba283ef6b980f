"""Registration request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Direction = Literal["in", "out", "through"]
# "auto": at a compound's gate the server picks in or out from the person's state.
AskedDirection = Literal["in", "out", "through", "auto"]
Method = Literal["qr", "paper", "id_typed", "wedge"]


class RegistrationIn(BaseModel):
    """One check at a lane, sent while online: the server decides."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID  # a UUIDv7 made by the device: a retry returns the first result
    site: str = Field(min_length=1, max_length=32)
    lane: str = Field(default="1", min_length=1, max_length=16)
    device_key: str = Field(default="", max_length=64)
    occurred_at: datetime
    sent_at: datetime | None = None  # device clock when sent, to measure skew
    direction: AskedDirection = "in"
    method: Method
    token: str | None = Field(default=None, max_length=2000)  # the scanned "PT1:..." text
    id_number: str | None = Field(default=None, max_length=32)
    temperature: float | None = Field(default=None, ge=30.0, le=45.0)
    plate: str | None = Field(default=None, max_length=12)
    companions: int = Field(default=0, ge=0, le=20)
    origin: str = Field(default="", max_length=64)
    destination: str = Field(default="", max_length=64)


class Reason(BaseModel):
    """A reason code and its one-line message."""

    code: str
    message: str


class RegistrationOut(BaseModel):
    """The decision as the guard sees it."""

    id: uuid.UUID
    decision: Literal["allow", "deny"]
    reasons: list[Reason]
    holder: str  # masked name, e.g. 张*
    id_last4: str  # compare with the ID card
    pass_id: uuid.UUID | None
    temperature: float | None
    occurred_at: datetime
    direction: str
    overridden: bool
    override_reason: str | None
    duplicate: bool = False  # true when this id was already registered
    skew_flagged: bool = False
    # At a community gate: who this is to the compound and its rules, translated.
    notes: list[str] = Field(default_factory=list)


class OverrideIn(BaseModel):
    """Let a denied person through anyway, saying why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=500)


BATCH_MAX_ROWS = 10_000


class BatchIn(BaseModel):
    """Registrations a device made (possibly offline) and now uploads.

    Rows are parsed one by one by the service so one bad row cannot sink the
    others; here they are only required to be JSON objects.
    """

    model_config = ConfigDict(extra="forbid")

    site: str = Field(min_length=1, max_length=32)
    device_key: str = Field(min_length=1, max_length=64)
    # Required, with its offset: the server measures the device's clock by it.
    sent_at: AwareDatetime
    pending: int = Field(default=0, ge=0, le=10_000_000)  # still queued on the device
    registrations: list[dict[str, object]] = Field(max_length=BATCH_MAX_ROWS)


class BatchRowResult(BaseModel):
    """What happened to one uploaded row."""

    id: str
    status: Literal["stored", "duplicate", "rejected"]
    error: str | None = None
    # For a stored row: the server's verdict (judged again from the facts), its reason
    # codes, and the alert kind when the device had decided otherwise.
    decision: Literal["allow", "deny"] | None = None
    reasons: list[str] = Field(default_factory=list)
    disagreement: str | None = None


class BatchOut(BaseModel):
    """Per-row results and totals; re-sending the same batch stores nothing new."""

    stored: int
    duplicates: int
    rejected: int
    skew_flagged: bool
    clock_skew_s: int | None
    results: list[BatchRowResult]


class HeartbeatIn(BaseModel):
    """A checkpoint page telling the server how long its offline queue is."""

    model_config = ConfigDict(extra="forbid")

    site: str = Field(min_length=1, max_length=32)
    device_key: str = Field(min_length=1, max_length=64)
    pending: int = Field(ge=0, le=10_000_000)
