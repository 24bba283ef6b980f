"""Communities API shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["owner", "tenant", "family", "live_in_worker"]


class CommunityCreate(BaseModel):
    """Register a compound (officials over its area)."""

    code: str = Field(pattern=r"^\d{12}$", description="the compound's 12-digit division code")
    name: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=200)
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


class OutRead(BaseModel):
    """A resident out now."""

    outing_id: uuid.UUID
    person_id: uuid.UUID
    name: str
    id_last4: str
    household: str
    out_at: datetime
    minutes_out: int
    due_back: datetime | None
    overdue: bool


class WeeklyRead(BaseModel):
    """Outings of one household since Monday."""

    household_id: uuid.UUID
    household: str
    outings: int


class VisitCreate(BaseModel):
    """A resident invites a visitor for one date."""

    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(min_length=1, max_length=20)
    id_number: str = Field(min_length=1, max_length=32)
    purpose: str = Field(min_length=2, max_length=200)
    visit_date: date


class VisitDecision(BaseModel):
    """A manager's decision on a visit (a reason is required to refuse)."""

    reason: str = Field(default="", max_length=500)


class VisitRead(BaseModel):
    """An invitation and where it stands."""

    id: uuid.UUID
    community: str
    household: str
    visitor: str
    id_last4: str
    phone: str | None
    purpose: str
    visit_date: date
    status: str
    status_label: str
    decision_reason: str | None
    pass_id: uuid.UUID | None
    entered_at: datetime | None
    exited_at: datetime | None
    inside: bool


class DeliveryCreate(BaseModel):
    """A courier's hand-over at the gate (the courier does not enter)."""

    site: str = Field(min_length=1, max_length=32)
    building: str = Field(min_length=1, max_length=32)
    unit: str = Field(min_length=1, max_length=16)
    room: str = Field(min_length=1, max_length=16)
    company: str = Field(min_length=1, max_length=40)
    courier_phone: str | None = Field(default=None, max_length=20)
    parcels: int = Field(default=1, ge=1, le=50)
    temperature: float | None = Field(default=None, ge=30, le=45)
    note: str = Field(default="", max_length=200)


class DeliveryRead(BaseModel):
    """A delivery waiting at (or collected from) the gate."""

    id: uuid.UUID
    household: str
    company: str
    courier_phone: str | None
    parcels: int
    note: str
    created_at: datetime
    collected_at: datetime | None


class ImportProblem(BaseModel):
    """One reason a row of an imported household list was refused."""

    row: int
    column: str
    message: str


class ImportReport(BaseModel):
    """What a household-list import did, row by row (nothing written unless committed)."""

    rows: int
    valid: int
    imported: int
    unchanged: int
    committed: bool
    problems: list[ImportProblem]
