"""A case, and the history of every change made to it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin

CLASSIFICATIONS = ("confirmed", "suspected", "asymptomatic")
STATUSES = ("open", "closed")
# Contacts are looked for from this many days before onset (or sampling, asymptomatic).
WINDOW_DAYS_BEFORE = 2
DEFAULT_WINDOW_MINUTES = 30


class Case(IdMixin, CreatedMixin, Base):
    """One person's infection as officials record it.

    person_hash is the person's keyed ID hash, denormalized so tracing queries join
    registrations and stays (which carry only the hash) without reading people.
    The exposure window [window_start, window_end) defaults to onset - 2 days until
    isolation (asymptomatic: sampling - 2 days) and can be edited per case.
    version is bumped on every change: an edit names the version it was made on, so
    two officials editing at once cannot silently overwrite each other (the update
    compares and bumps in one statement).
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_person_hash", "person_hash"),
        Index("ix_cases_area_status", "area_code", "status"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    person_hash: Mapped[str] = mapped_column(String(64))
    classification: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default="open")
    onset_date: Mapped[date | None]
    sampling_date: Mapped[date | None]
    isolation_date: Mapped[date | None]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    # Same place, same time: registrations within this many minutes of each other.
    window_minutes: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_WINDOW_MINUTES)
    area_code: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)


class CaseEvent(IdMixin, Base):
    """One change to a case (created, edited, reclassified, closed, reopened): the history."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    # {field: [before, after]} for edits; dates and times as ISO strings.
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
