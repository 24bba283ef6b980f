"""Outing API shapes: who is out, outings per household."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


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
