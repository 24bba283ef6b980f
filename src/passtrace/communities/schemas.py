"""Communities API shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from passtrace.core.validators import Day

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


# Free text people type: any character but control characters (PostgreSQL refuses NUL).
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"


class VisitCreate(BaseModel):
    """A resident invites a visitor for one date (today up to 14 days ahead, local time).

    `id` may be chosen by the client (a UUID) so that a retried request returns the
    first invitation instead of creating a second one.
    """

    id: uuid.UUID | None = None
    community: str | None = Field(default=None, pattern=r"^\d{12}$",
                                  description="needed only if you live in several compounds")
    name: str = Field(min_length=1, max_length=40, pattern=PLAIN_TEXT)
    phone: str = Field(min_length=1, max_length=20, pattern=PLAIN_TEXT)
    id_number: str = Field(min_length=1, max_length=32, pattern=PLAIN_TEXT)
    purpose: str = Field(min_length=2, max_length=200, pattern=PLAIN_TEXT)
    visit_date: Day


class VisitDecision(BaseModel):
    """A manager's decision on a visit (a reason is required to refuse)."""

    reason: str = Field(default="", max_length=500, pattern=PLAIN_TEXT)


class VisitCancel(BaseModel):
    """Why the resident calls the visit off (optional)."""

    reason: str = Field(default="", max_length=200, pattern=PLAIN_TEXT)


VisitStage = Literal["pending", "approved", "inside", "left", "rejected", "cancelled",
                     "expired"]


class VisitRead(BaseModel):
    """An invitation and where it stands; the visitor's data masked.

    `status` is what was decided; `stage` adds what happened at the gate (inside,
    left) and "expired" for a visit whose day passed unused.
    """

    id: uuid.UUID
    community: str
    community_name: str
    household: str
    visitor: str
    id_last4: str
    phone: str | None
    purpose: str
    visit_date: date
    status: Literal["pending", "approved", "rejected", "cancelled"]
    stage: VisitStage
    stage_label: str
    decision_reason: str | None
    decided_at: datetime | None
    created_at: datetime
    pass_id: uuid.UUID | None
    entered_at: datetime | None
    exited_at: datetime | None
    inside: bool
    token: str | None = Field(default=None,
                              description="the visitor pass text (PT1:...), for its inviter")


class DeliveryCreate(BaseModel):
    """A courier's hand-over at the gate (the courier does not enter).

    `id` may be chosen by the client so that a retried request stores one delivery.
    """

    id: uuid.UUID | None = None
    site: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    building: str = Field(min_length=1, max_length=32, pattern=PLAIN_TEXT)
    unit: str = Field(min_length=1, max_length=16, pattern=PLAIN_TEXT)
    room: str = Field(min_length=1, max_length=16, pattern=PLAIN_TEXT)
    company: str = Field(min_length=1, max_length=40, pattern=PLAIN_TEXT)
    courier_phone: str | None = Field(default=None, max_length=20, pattern=PLAIN_TEXT)
    parcels: int = Field(default=1, ge=1, le=50)
    temperature: float | None = Field(default=None, ge=30, le=45)
    note: str = Field(default="", max_length=200, pattern=PLAIN_TEXT)


class DeliveryRead(BaseModel):
    """A delivery waiting at (or collected from) the gate; the courier's phone masked."""

    id: uuid.UUID
    community: str
    site: str
    household: str
    company: str
    courier_phone: str | None
    parcels: int
    temperature: float | None
    note: str
    created_at: datetime
    collected_at: datetime | None
    collected: bool
    notified: int | None = Field(default=None,
                                 description="on registering: residents told in the app")
