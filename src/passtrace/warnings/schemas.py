"""The warnings API's shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AREA_PATTERN = r"^\d{6,12}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaRiskIn(_In):
    """Declare an area at a risk level for a window (from: now when left out)."""

    area_code: str = Field(pattern=AREA_PATTERN)
    level: Literal["high", "medium", "low"]
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str = Field(default="", max_length=200, description="the reason, shown publicly")


class AreaRiskEnd(_In):
    """Lift a risk now, saying why (stored with the lift and shown in the area's history)."""

    reason: str = Field(max_length=200, description="why the risk is lifted; blank is refused")


class AreaRiskRead(BaseModel):
    """A risk declaration as stored (its rows for one area are its history)."""

    id: uuid.UUID
    area_code: str
    level: str
    valid_from: datetime
    valid_until: datetime | None
    note: str
    source: str
    lifted_at: datetime | None
    lift_reason: str | None = None
    # NULL while its visitors are being found and flagged (the job runner's scan, in
    # parts: some may be flagged already, the others soon).
    scanned_at: datetime | None = None


class PublicRisk(BaseModel):
    """A current risk area as the public list shows it."""

    area_code: str
    name_zh: str
    name_en: str
    level: str
    valid_from: datetime
    valid_until: datetime | None
    reason: str


class AlertRead(BaseModel):
    """An alert in a queue: the subject masked, the evidence with links."""

    id: int
    rule: str
    rule_title: str
    severity: str
    status: str
    subject: str
    area_code: str
    queue_area: str
    day: date
    created_at: datetime
    age_minutes: int
    explanation: str
    evidence: dict[str, Any]
    links: dict[str, str]
    assigned_to: uuid.UUID | None
    resolution: str | None
    note: str
    escalations: int


class AlertPage(BaseModel):
    """One page of a queue."""

    items: list[AlertRead]
    next: str | None


class AssignIn(_In):
    """Give the alert to an official of its area."""

    user_id: uuid.UUID


class ResolveIn(_In):
    """Close the alert with what was done."""

    resolution: Literal["contacted", "isolated", "tested", "negative", "referred", "no_action"]
    note: str = Field(default="", max_length=1000)


class DismissIn(_In):
    """Close the alert as a false alarm."""

    reason: str = Field(min_length=1, max_length=1000)


class RuleRateRead(BaseModel):
    """Closed alerts of one rule and the share that were false alarms."""

    rule: str
    rule_title: str
    closed: int
    dismissed: int
    false_alarm_rate: float


class RuleRead(BaseModel):
    """A rule as it runs now."""

    code: str
    title: str
    severity: str
    enabled: bool
    params: dict[str, int]
    explanation: str


class RuleUpdate(_In):
    """An admin's change to a rule."""

    severity: Literal["high", "medium", "low"]
    enabled: bool = True
    params: dict[str, int] = Field(default_factory=dict)
