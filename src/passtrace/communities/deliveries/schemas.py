"""Delivery API shapes: a hand-over at the gate."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from passtrace.communities.compounds.schemas import PLAIN_TEXT


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
