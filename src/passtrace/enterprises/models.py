"""Enterprises, their departments and employees, and resumption-of-work applications."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passtrace.core.db import Base, CreatedMixin, IdMixin
from passtrace.core.pii import PiiBound
from passtrace.people.models import Person, PersonClaim

EMPLOYEE_STATUSES = ("active", "left")
RESUMPTION_STATUSES = ("pending", "approved", "returned", "withdrawn")


class Enterprise(IdMixin, CreatedMixin, Base):
    """A company; its 18-character unified social credit code is its natural key."""

    __tablename__ = "enterprises"

    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    # Daily reports are due by this local (Asia/Shanghai) time.
    report_deadline: Mapped[time] = mapped_column(default=time(10, 0))
    # Set once a resumption-of-work application is approved.
    resumed_on: Mapped[date | None]
    # Trajectory verification: how far (minutes) a registration may lie outside a reported
    # stop and still corroborate it (tracing/verify.py).
    verify_tolerance_minutes: Mapped[int] = mapped_column(SmallInteger, default=30,
                                                          server_default="30")


class Department(IdMixin, CreatedMixin, Base):
    """A department; department heads are role bindings scoped to its id."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("enterprise_id", "name"),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))


class Employee(IdMixin, CreatedMixin, Base):
    """A person employed by an enterprise, optionally bound to their own login."""

    __tablename__ = "employees"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "person_id"),
        Index("ix_employees_department", "department_id", "status"),
    )

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("departments.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    # The account that files this employee's reports; set when the invite is accepted.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    employee_no: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(8), default="active")
    # Invite link: only the hash of the token is stored.
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(lazy="joined", innerjoin=True)
    department: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    # What HR uploaded for this person: the only name and phone the employer reads
    # (never the person registry's values). Loaded on use; lists load it in one query
    # with selectinload(Employee.hr_claim).
    hr_claim: Mapped[PersonClaim | None] = relationship(
        primaryjoin="and_(Employee.person_id == foreign(PersonClaim.person_id), "
                    "Employee.enterprise_id == foreign(PersonClaim.source_id), "
                    "PersonClaim.source_kind == 'enterprise')",
        viewonly=True, lazy="select", uselist=False)

    @property
    def listed_name(self) -> str:
        """The masked name HR listed this employee under (what employer pages show)."""
        return self.hr_claim.name_masked if self.hr_claim is not None else "—"


class ResumptionApplication(PiiBound, IdMixin, CreatedMixin, Base):
    """An enterprise's application to resume work, decided by an area official."""

    __tablename__ = "resumption_applications"
    __table_args__ = (Index("ix_resumption_status", "status", "created_at"),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    applicant_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    planned_date: Mapped[date]
    # {department id (str): returning headcount}
    headcount: Mapped[dict[str, int]] = mapped_column(default=dict)
    measures: Mapped[str] = mapped_column(Text)
    contact_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    contact_name_masked: Mapped[str] = mapped_column(String(32))
    contact_phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    contact_phone_masked: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reasons: Mapped[list[str]] = mapped_column(default=list)
    # {department id (str): commute passes issued so far}; capped by headcount.
    passes_issued: Mapped[dict[str, int]] = mapped_column(default=dict)
