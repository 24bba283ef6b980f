"""Contacts of a case with their evidence, tracing tasks, and report verification findings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin

CONTACT_KINDS = ("close", "secondary", "general")
EVIDENCE_KINDS = ("same_site_window", "stay_overlap", "instant_in_stay", "household",
                  "same_train", "same_flight", "colleague", "analytics_companion")
# Evidence found outside the search (a population analytics run's companions, added to a
# case's contacts by an official): kept when the search runs again (contacts._store).
OUTSIDE_KINDS = ("analytics_companion",)
TASK_STATUSES = ("not_reached", "reached", "quarantined", "tested")
FINDING_CLASSES = ("corroborated", "unreported_visit", "contradiction", "uncorroborated",
                   "unobservable")
QUARANTINE_DAYS = 14


class Contact(IdMixin, Base):
    """A person exposed to a case, with every piece of evidence that says so.

    One row per (case, person): re-running the search updates the row in place
    (evidence, first/last exposure), so a retry never duplicates a contact and a
    tracing task keeps pointing at it. Secondary contacts (depth >= 2) name the
    contact they were found through.
    """

    __tablename__ = "case_contacts"
    __table_args__ = (
        UniqueConstraint("case_id", "person_hash"),
        Index("ix_case_contacts_person", "person_hash"),
        # The self-referencing foreign key below cascades: without this index, deleting a
        # case scans case_contacts once per deleted contact (minutes with thousands of
        # secondary contacts, issue 13).
        Index("ix_case_contacts_via_contact", "via_contact_id"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    person_hash: Mapped[str] = mapped_column(String(64))
    # Known when the hash belongs to a person record (unknown for a bare typed ID).
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(10))
    depth: Mapped[int] = mapped_column(SmallInteger, default=1)
    via_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("case_contacts.id", ondelete="CASCADE"))
    first_exposure: Mapped[datetime]
    last_exposure: Mapped[datetime]
    quarantine_until: Mapped[date]
    # Where the contact is to be traced: the area of the last exposure's site or home.
    area_code: Mapped[str] = mapped_column(String(12), default="")
    # [{"kind": one of EVIDENCE_KINDS, ...ids and times involved}], see docs/tracing.md.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Secondary contacts (depth >= 2) keep their evidence in summary: the number of items
    # per kind here, and only the earliest few items in `evidence` (a secondary contact
    # can be exposed hundreds of times; thousands of them per case). None: `evidence`
    # holds every item.
    evidence_counts: Mapped[dict[str, int] | None] = mapped_column(JSON(none_as_null=True))
    found_at: Mapped[datetime]


class TracingTask(IdMixin, CreatedMixin, Base):
    """Reaching one close contact: owned by the officials over the contact's area."""

    __tablename__ = "tracing_tasks"
    __table_args__ = (
        UniqueConstraint("contact_id"),
        Index("ix_tracing_tasks_area_status", "area_code", "status", "due_at"),
    )

    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_contacts.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="not_reached")
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime]
    reached_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")


class ReportFinding(Base):
    """One verification finding for a daily report: a stop or a registration, classified.

    The id is a UUIDv5 of (report, class, stop, registration), stable across re-runs:
    verifying again replaces a report's findings with the same ids, and the
    early-warning platform can refer to a finding by its id.
    """

    __tablename__ = "report_findings"
    __table_args__ = (Index("ix_report_findings_report", "report_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("daily_reports.id", ondelete="CASCADE"))
    finding_class: Mapped[str] = mapped_column(String(16))
    stop_seq: Mapped[int | None] = mapped_column(SmallInteger)
    registration_id: Mapped[uuid.UUID | None]
    tolerance_minutes: Mapped[int] = mapped_column(SmallInteger, default=30)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[datetime]
