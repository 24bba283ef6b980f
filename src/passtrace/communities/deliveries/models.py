"""A courier's hand-over at a compound gate."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin
from passtrace.core.pii import PiiBound


class Delivery(PiiBound, IdMixin, CreatedMixin, Base):
    """A courier's hand-over at the gate: registered without the courier entering."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_community_time", "community_id", "created_at"),
                      Index("ix_deliveries_household", "household_id", "created_at"),
                      # The retention job deletes the oldest first.
                      Index("ix_deliveries_created_at", "created_at"))

    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("communities.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"))
    registered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    company: Mapped[str] = mapped_column(String(40))
    courier_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    courier_phone_masked: Mapped[str | None] = mapped_column(String(16))
    parcels: Mapped[int] = mapped_column(SmallInteger, default=1)
    temperature: Mapped[float | None] = mapped_column(Numeric(3, 1, asdecimal=False))
    note: Mapped[str] = mapped_column(String(200), default="")
    collected_at: Mapped[datetime | None]
    collected_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
