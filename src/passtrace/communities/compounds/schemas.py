"""Compound API shapes: compounds and their rules, buildings, households, residents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["owner", "tenant", "family", "live_in_worker"]


class CommunityCreate(BaseModel):
    """Register a compound (officials over its area)."""

    code: str = Field(pattern=r"^\d{12}$", description="the compound's 12-digit division code")
    name: str = Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]*$")
    address: str = Field(default="", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    visitor_approval: Literal["manual", "auto"] = "manual"


class RulesWrite(BaseModel):
    """Outing rules; leave a limit empty (null) for "no limit"."""

    max_out_per_household: int | None = Field(default=None, ge=1, le=20)
    outings_per_window: int | None = Field(default=None, ge=1, le=100)
    window_days: int = Field(default=1, ge=1, le=14)
    curfew_start: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    curfew_end: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    max_out_minutes: int | None = Field(default=None, ge=10, le=24 * 60)
    visitor_approval: Literal["manual", "auto"] = "manual"


class RulesChange(RulesWrite):
    """New outing rules; making any stricter needs a reason (compounds.rule_changes)."""

    reason_code: str | None = Field(default=None, max_length=24,
                                    description="one of rule_changes.RULE_REASONS; required "
                                                "when a rule is made stricter")
    reason: str = Field(default="", max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")


class CommunityRead(RulesWrite):
    """A compound, its rules and its size."""

    code: str
    name: str
    address: str
    gates: list[str]
    buildings: int
    households: int
    residents: int
    rules: list[str] = Field(description="the rules as translated one-liners")


class BuildingWrite(BaseModel):
    """A building and its units (entrances)."""

    name: str = Field(min_length=1, max_length=32)
    units: list[str] = Field(default_factory=lambda: ["1"], min_length=1, max_length=20)


class BuildingRead(BuildingWrite):
    """A building."""

    id: uuid.UUID
    households: int


class ResidentCreate(BaseModel):
    """Add a resident to a household (created if the flat is new)."""

    building: str = Field(min_length=1, max_length=32)
    unit: str = Field(min_length=1, max_length=16)
    room: str = Field(min_length=1, max_length=16)
    id_number: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=40)
    phone: str | None = Field(default=None, max_length=20)
    role: Role = "family"


class ResidentRead(BaseModel):
    """A resident, personal data masked."""

    id: uuid.UUID
    person_id: uuid.UUID
    household_id: uuid.UUID
    household: str
    role: Role
    role_label: str
    name: str
    id_number: str
    phone: str | None
    pass_id: uuid.UUID | None
    out_since: datetime | None


class HouseholdRead(BaseModel):
    """A household and its residents."""

    id: uuid.UUID
    label: str
    building: str
    unit: str
    room: str
    residents: list[ResidentRead]
    out_now: int
    outings_in_window: int


# Free text people type: any character but control characters (PostgreSQL refuses NUL).
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"


class RuleAppealCreate(BaseModel):
    """Why the stricter rule is wrong for me, in my words."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=1000)


class RuleAppealDecision(BaseModel):
    """What happens to the rule change, and why."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["upheld", "reversed"]
    reason: str = Field(default="", max_length=500)
