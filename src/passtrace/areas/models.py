"""Administrative divisions (GB/T 2260 codes and deeper street/community codes)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin

LEVELS = ("province", "city", "district", "street", "community")


class Area(Base):
    """A division; a code's ancestors are its prefixes, so containment is a prefix test."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(96))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)


RISK_LEVELS = ("low", "medium", "high")


class AreaRisk(IdMixin, CreatedMixin, Base):
    """An area (code prefix) at a risk level for a time window.

    Owned by the early-warning platform (warnings.risk_areas declares, lifts and imports);
    kept here, below both reports and warnings, because the daily-report checks read it
    and warnings reads reports: a model in warnings would make the two import each other.
    A row is never deleted: lifting sets valid_until (and lifted_*), so the rows of one
    code are its history.
    """

    __tablename__ = "area_risks"
    __table_args__ = (Index("ix_area_risks_prefix", "area_prefix"),)

    area_code: Mapped[str] = mapped_column(String(12))
    area_prefix: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(200), default="")  # the reason, shown publicly
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # manual | import (a published list)
    source: Mapped[str] = mapped_column(String(8), default="manual", server_default="manual")
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Why it was lifted (required since 2026-12-06; NULL on rows lifted before).
    lift_reason: Mapped[str | None] = mapped_column(String(200))
    # Set once the early-warning job has flagged the area's recent visitors; NULL queues it.
    scanned_at: Mapped[datetime | None]
