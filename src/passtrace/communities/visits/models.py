"""A visitor a resident invited, the compound's decision and the visit at the gate."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin
from passtrace.core.pii import PiiBound

VISIT_STATUSES = ("pending", "approved", "rejected", "cancelled")


class Visit(PiiBound, IdMixin, CreatedMixin, Base):
    """A visitor a resident invited for one date; approved, it carries a one-time pass."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_community_date", "community_id", "visit_date"),
        Index("ix_visits_household", "household_id", "created_at"),
        Index("ix_visits_visit_date", "visit_date"),  # retention deletes the oldest first
    )

    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("communities.id"))
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"))
    invited_by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    visitor_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    # The phone typed for this visit (a known visitor's stored phone may be older).
    visitor_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    visitor_phone_masked: Mapped[str | None] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(200))
    visit_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    pass_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("passes.id"), unique=True)
    entered_at: Mapped[datetime | None]
    exited_at: Mapped[datetime | None]
