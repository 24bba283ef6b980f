"""The registration: the big table (tens of millions of rows a day in a province)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Numeric, SmallInteger, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base

DIRECTIONS = ("in", "out", "through")
# How a device took the identity. "import" is not among them: only a bulk load from
# another system (registrations.imports) stores it, never a device's upload.
DEVICE_METHODS = ("qr", "paper", "id_typed", "wedge")
METHODS = (*DEVICE_METHODS, "import")
DECISIONS = ("allow", "deny")


class Registration(Base):
    """One person checked at a site lane, as the device recorded it.

    The id is a UUIDv7 made by the device, so a retried upload is a no-op.
    No foreign keys to passes or people: a device may register a pass or a
    person this server learns of later, and bulk ingest must not pay for
    per-row lookups. person_hash is the keyed hash of the ID number.
    """

    __tablename__ = "registrations"
    __table_args__ = (
        Index("ix_registrations_site_time", "site_id", "occurred_at"),
        Index("ix_registrations_person_time", "person_hash", "occurred_at"),
        # Only the rows with a pass (most have none: ID-number scans, imports); a
        # lookup by pass_id = ... implies NOT NULL and still uses it.
        Index("ix_registrations_pass_time", "pass_id", "occurred_at",
              postgresql_where=text("pass_id IS NOT NULL"),
              sqlite_where=text("pass_id IS NOT NULL")),
        # The retention job deletes the oldest first (retention.service).
        Index("ix_registrations_occurred_at", "occurred_at"),
        # "Already inside?" looks for a person's last allowed in/out at one site. A
        # person's many "through" checks elsewhere must not be scanned to find it.
        Index("ix_registrations_inside", "person_hash", "site_id", "occurred_at",
              postgresql_where=text("decision = 'allow' AND direction IN ('in', 'out')"),
              sqlite_where=text("decision = 'allow' AND direction IN ('in', 'out')")),
        # Officials list the offline rows the server judged otherwise (a few per day).
        Index("ix_registrations_disagreement", "site_id", "occurred_at",
              postgresql_where=text("disagreement IS NOT NULL"),
              sqlite_where=text("disagreement IS NOT NULL")),
        # PostgreSQL: one partition per UTC day of the id's UUIDv7 time, which the
        # retention job drops whole (registrations.partitions; made by the migration).
        {"postgresql_partition_by": "RANGE (id)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # No foreign key on site_id and operator_user_id: a key checks its row once per
    # stored registration, the same site and operator thousands of times a batch. The
    # writers take both from rows they have just read (the batch locks them once:
    # registrations.ingest), and a trigger refuses to delete a site or user still named
    # here (migration d9a4c2e7f150; docs/checkpoint.md says why this is safe).
    site_id: Mapped[uuid.UUID]
    lane: Mapped[str] = mapped_column(String(16))
    device_key: Mapped[str] = mapped_column(String(64))
    operator_user_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime]  # device clock
    received_at: Mapped[datetime]  # server clock
    # Device clock minus server clock when the device sent it; None if unknown.
    clock_skew_s: Mapped[int | None]
    skew_flagged: Mapped[bool] = mapped_column(default=False)
    # The occurrence lies after the server received it (by more than the clock-skew
    # bound): the device clock ran ahead, so occurred_at cannot be trusted as it is.
    future_flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    direction: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(8))
    person_hash: Mapped[str | None] = mapped_column(String(64))
    person_masked: Mapped[str] = mapped_column(String(32), default="")
    id_last4: Mapped[str] = mapped_column(String(4), default="")
    pass_id: Mapped[uuid.UUID | None]
    temperature: Mapped[float | None] = mapped_column(Numeric(3, 1, asdecimal=False))
    plate: Mapped[str | None] = mapped_column(String(10))
    companions: Mapped[int] = mapped_column(SmallInteger, default=0)
    origin: Mapped[str] = mapped_column(String(64), default="")
    destination: Mapped[str] = mapped_column(String(64), default="")
    # The server's decision. For a row decided offline it is judged again at upload from
    # the facts (signature, revocation, the person's passes and status, temperature):
    # what the device showed is kept in device_decision / device_reasons.
    decision: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    # Who decided first: "server" (online) or "device" (offline in the browser, then
    # judged again by the server at upload).
    decided_by: Mapped[str] = mapped_column(String(8), default="server")
    device_decision: Mapped[str | None] = mapped_column(String(8))
    device_reasons: Mapped[list[str] | None]
    # The early-warning alert kind when the device and the server disagree
    # (rules.offline.ALERT_KINDS), else None.
    disagreement: Mapped[str | None] = mapped_column(String(32))
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The row's id in the system it was imported from (`registrations import`): the
    # import is idempotent by it, and tracing output names it. Unique through
    # RegistrationExternalId: a partitioned table has no unique index without its key.
    external_id: Mapped[str | None] = mapped_column(String(64))


class RegistrationExternalId(Base):
    """An imported registration's external id, once: what keeps the import idempotent.

    PostgreSQL partitions registrations by id, and a unique index on a partitioned table
    must contain the partition key, so registrations.external_id cannot be unique there
    (an external id sent again with another time makes another id, in another day). The
    import inserts here first, in the same statement (ON CONFLICT DO NOTHING), and only
    rows whose key was new go on to registrations. Deleted with the registrations
    (retention kind "registration_external_ids", the same period).
    """

    __tablename__ = "registration_external_ids"
    __table_args__ = (Index("ix_registration_external_ids_occurred_at", "occurred_at"),)

    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    registration_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime]


STAY_CLOSED_BY = ("out", "cap")


class Stay(Base):
    """A person's stay at one site: an allowed "in" paired with the "out" that closed it.

    Kept at write time (registrations.stays): an "in" opens a stay whose ended_at is the
    per-site-kind cap (e.g. 12 h), and the next "out" of the same person at the same site
    before the cap closes it. ended_at is therefore never NULL, so an overlap query is two
    range comparisons; closed_by says whether the end was observed ("out") or assumed
    ("cap", also while the stay is still open). A road checkpoint's "through" is an
    instant and makes no stay. The id is the opening registration's id, so rebuilding
    from the registrations (imports, out-of-order offline uploads) is idempotent.
    """

    __tablename__ = "stays"
    __table_args__ = (
        Index("ix_stays_person_time", "person_hash", "started_at"),
        # Write-time upkeep: the stay of this person at this site containing a time.
        Index("ix_stays_person_site_time", "person_hash", "site_id", "started_at"),
        Index("ix_stays_site_time", "site_id", "started_at"),
        # The retention job deletes the oldest first.
        Index("ix_stays_started_at", "started_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the "in" registration's id
    person_hash: Mapped[str] = mapped_column(String(64))
    # No foreign key (migration f4c8a2e6b9d1): the site is the "in" registration's, and
    # the key locked that site once per stay written; a trigger refuses to delete a site
    # named here.
    site_id: Mapped[uuid.UUID]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    closed_by: Mapped[str] = mapped_column(String(8), default="cap")
    out_registration_id: Mapped[uuid.UUID | None]
