"""Daily reports, their ordered stops and reminder deliveries (risk areas: areas.models)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passtrace.core.db import Base, CreatedMixin, IdMixin

MODES = ("walk", "car", "bus", "metro", "taxi", "train", "flight")
SYMPTOMS = ("fever", "cough", "sore_throat", "fatigue", "loss_of_smell", "diarrhea",
            "short_breath")
FEVER_AT = 37.3


class DailyReport(IdMixin, Base):
    """One employee's health and trajectory for one local date."""

    __tablename__ = "daily_reports"
    __table_args__ = (
        UniqueConstraint("employee_id", "report_date"),
        Index("ix_daily_reports_enterprise_date", "enterprise_id", "report_date"),
        Index("ix_daily_reports_department_date", "department_id", "report_date"),
        # Retention (oldest first) and verification's pages, keyed (report_date, id).
        Index("ix_daily_reports_date_id", "report_date", "id"),
        # The day's anomalies (fever, symptoms) without reading every report of the day.
        Index("ix_daily_reports_flagged", "enterprise_id", "report_date",
              postgresql_where=text("flagged"), sqlite_where=text("flagged")),
    )

    # Employee, enterprise and department are None only for a report imported from
    # another system (`reports import`, person_hash and external_id set): it has no
    # employer, so dashboards, which filter by enterprise, never show it.
    employee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("employees.id"))
    # Denormalized from the employee so dashboards read one table.
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("departments.id"))
    filed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    report_date: Mapped[date]
    # None only for an imported report whose source recorded no temperature.
    temperature: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))
    symptoms: Mapped[list[str]] = mapped_column(default=list)
    stayed_home: Mapped[bool] = mapped_column(Boolean, default=False)
    # How it was filed: form, same_as_yesterday, stayed_home.
    source: Mapped[str] = mapped_column(String(20), default="form")
    submitted_at: Mapped[datetime]
    amended_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fever (>= 37.3) or any symptom, set when filed, so dashboards need no JSON tests.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # The filer's keyed ID hash (people.id_hash), denormalized so trajectory verification
    # joins reports to registrations and stays (which carry only the hash) directly.
    person_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The report's id in the system it was imported from (`reports import`).
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    stops: Mapped[list[ReportStop]] = relationship(
        order_by="ReportStop.seq", cascade="all, delete-orphan", lazy="selectin")


class ReportDayCount(Base):
    """How many reports one department of an enterprise filed on one date.

    Kept in the filing transaction (reports.counts.bump), so dashboards read a
    handful of rows instead of counting a day's (or 14 days') reports; bulk loads call
    reports.counts.rebuild.
    """

    __tablename__ = "report_day_counts"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"),
                                                     primary_key=True)
    report_date: Mapped[date] = mapped_column(primary_key=True)
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("departments.id"),
                                                     primary_key=True)
    submitted: Mapped[int] = mapped_column(Integer, default=0)


class ReportStop(Base):
    """A place the employee was, and how they got there from the previous stop."""

    __tablename__ = "report_stops"
    __table_args__ = (
        Index("ix_report_stops_area_arrive", "area_code", "arrive_at"),
        # Same train or flight (tracing.ties.trips_many) looks stops up by upper(ref):
        # without this it read every report of the date to find one train's passengers.
        Index("ix_report_stops_trip_ref", text("upper(ref)"), "mode"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("daily_reports.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(12))
    place: Mapped[str] = mapped_column(String(100), default="")
    arrive_at: Mapped[datetime]
    depart_at: Mapped[datetime | None]
    # Transport from the previous stop (none for the first stop of the day).
    mode: Mapped[str | None] = mapped_column(String(8))
    ref: Mapped[str | None] = mapped_column(String(16))  # plate, train or flight number
    seat: Mapped[str | None] = mapped_column(String(8))


class ReportReminder(IdMixin, CreatedMixin, Base):
    """One reminder (or escalation) for one missed date; unique, so never sent twice."""

    __tablename__ = "report_reminders"
    __table_args__ = (
        UniqueConstraint("employee_id", "report_date", "kind", "recipient_user_id"),
    )

    employee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("employees.id"))
    report_date: Mapped[date]
    kind: Mapped[str] = mapped_column(String(10))  # remind | escalate
    recipient_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
