"""Visit API shapes: an invitation, a decision, where a visit stands."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from passtrace.communities.compounds.schemas import PLAIN_TEXT
from passtrace.core.validators import Day


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
