"""Status flags (each one reason for a yellow or red status) and the status history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin

LEVELS = ("yellow", "red")
# Worst first: the person's status is the worst level among their live flags.
SEVERITY = {"green": 0, "yellow": 1, "red": 2}
# A flag's source: a rule code (the warnings registry's), a hand-set status (four-eyes),
# or the outcome of an appeal.
MANUAL = "manual"
APPEAL = "appeal"


class StatusFlag(IdMixin, CreatedMixin, Base):
    """One reason a person is yellow or red, with its evidence and how long it lasts.

    A flag counts from starts_at until `until` (exclusive; None: until cleared) unless it
    was cleared. dedupe_key is unique: a rule re-run raising the same flag creates
    nothing (INSERT ... ON CONFLICT DO NOTHING, no SELECT-then-INSERT window).
    """

    __tablename__ = "status_flags"
    __table_args__ = (Index("ix_status_flags_person", "person_id", "cleared_at"),
                      # the expiry sweep: live flags whose end has passed, not yet settled
                      Index("ix_status_flags_until", "until", "settled_at"))

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(String(48))
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_at: Mapped[datetime]
    until: Mapped[datetime | None]
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    cleared_reason: Mapped[str | None] = mapped_column(String(48))
    # When the expiry sweep recomputed the person's status after `until` passed.
    settled_at: Mapped[datetime | None]
    # Where the reason arose, for district counts: the alert's area; for a status set by
    # hand, the person's area where the deciding official is responsible (None: unknown).
    area_code: Mapped[str | None] = mapped_column(String(12))


class StatusChange(IdMixin, Base):
    """One entry of a person's status history: what happened and the status after it."""

    __tablename__ = "status_history"
    __table_args__ = (Index("ix_status_history_person", "person_id", "at"),
                      # deleting or clearing a flag finds its history rows (ON DELETE)
                      Index("ix_status_history_flag", "flag_id"))

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    # raised | cleared | expired (a flag's) or decided (a manual change, an appeal)
    event: Mapped[str] = mapped_column(String(16))
    flag_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("status_flags.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(48))
    before: Mapped[str] = mapped_column(String(8))
    after: Mapped[str] = mapped_column(String(8))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))


class StatusProposal(IdMixin, CreatedMixin, Base):
    """A status set by hand, waiting for a second official (four eyes).

    One official proposes with a reason; another official over the person's area
    approves or refuses. The CHECK makes the proposer approving their own proposal
    impossible whatever the code path (an admin's API call included).
    """

    __tablename__ = "status_proposals"
    __table_args__ = (
        CheckConstraint("decided_by IS NULL OR decided_by <> proposed_by",
                        name="four_eyes"),
        Index("ix_status_proposals_person", "person_id", "created_at"),
        Index("ix_status_proposals_state", "state", "created_at"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(8))  # green | yellow | red
    reason: Mapped[str] = mapped_column(String(500))
    until: Mapped[datetime | None]
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # approved | refused
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(String(500), default="")


class StatusAppeal(IdMixin, CreatedMixin, Base):
    """The person's appeal against one flag; an official decides by `due_at`.

    One appeal per flag: flag_id is unique (a second appeal is refused by the database
    even if two arrive at once).
    """

    __tablename__ = "status_appeals"
    __table_args__ = (Index("ix_status_appeals_state", "state", "due_at"),)

    flag_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("status_flags.id", ondelete="CASCADE"), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                                 index=True)
    statement: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10), default="pending")  # granted | refused
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    # Set once when the deadline passed undecided and the next area up was told.
    escalated_at: Mapped[datetime | None]
