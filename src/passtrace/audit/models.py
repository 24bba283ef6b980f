"""The append-only audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.clock import utcnow
from passtrace.core.db import Base


class AuditEntry(Base):
    """One state change or one read of personal data; never updated or deleted."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_subject_at", "subject_person_id", "at"),
        Index("ix_audit_resource", "resource_type", "resource_id"),
        # Two writers can never both append at one position of one lane; the index also
        # finds a lane's head (WHERE lane = k ORDER BY seq DESC LIMIT 1).
        UniqueConstraint("lane", "seq", name="uq_audit_entries_lane_seq"),
    )

    # A plain autoincrement id keeps the log's order total and gap-visible.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str] = mapped_column(String(64), default="system")
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(64), default="")
    # Whose personal data was touched, so a person can see who viewed it.
    subject_person_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    # The hash chain (audit/chain.py): the lane (0: the main chain), the position in it,
    # the previous entry's hash in that lane, and this one's.
    lane: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
