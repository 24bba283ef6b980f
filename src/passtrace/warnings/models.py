"""Rule settings (what admins changed) and alerts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.clock import utcnow
from passtrace.core.db import Base

SEVERITIES = ("high", "medium", "low")
STATUSES = ("open", "acknowledged", "resolved", "dismissed")
RESOLUTIONS = ("contacted", "isolated", "tested", "negative", "referred", "no_action")


class RuleSetting(Base):
    """An admin's change to a rule's defaults (warnings.registry): severity, parameters,
    on/off. A rule without a row runs with its defaults."""

    __tablename__ = "warning_rules"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    severity: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(default=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class Alert(Base):
    """One rule firing for one subject on one (local) day.

    (rule, subject, day) is unique: every rule inserts with ON CONFLICT DO NOTHING, so
    a re-run, two runners at once or a declared area re-scanning a window create
    nothing new (the constraint, not a read, decides).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("rule_code", "subject_key", "day", name="uq_alerts_dedupe"),
        Index("ix_alerts_area_status", "queue_area", "status", "created_at"),
        Index("ix_alerts_status_created", "status", "created_at"),
        Index("ix_alerts_person", "person_hash"),
    )

    # An integer id: the windowed rules insert thousands of alerts in one
    # INSERT ... SELECT, where the database, not Python, must number them.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rule_code: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    # person (subject_key = the keyed ID hash), pass (the pass id), site, supply
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_key: Mapped[str] = mapped_column(String(64))
    person_hash: Mapped[str | None] = mapped_column(String(64))
    subject_masked: Mapped[str] = mapped_column(String(32), default="")
    # Where the alert is queued (the site's, report's or contact's area); escalation
    # moves `queue_area` up a level, area_code stays where it happened.
    area_code: Mapped[str] = mapped_column(String(12))
    queue_area: Mapped[str] = mapped_column(String(12))
    day: Mapped[date]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="open")
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    escalations: Mapped[int] = mapped_column(SmallInteger, default=0)
    escalated_at: Mapped[datetime | None]
