"""Registrations counted by the hour, kept by the database as rows are written.

Every insert, update or delete of registrations appends its counts to
`registration_hour_deltas` in the same transaction (triggers made by the migration:
statement-level with transition tables on PostgreSQL, so a COPY of 5,000 rows adds one
grouped statement; row-level on SQLite). Nothing in the write paths calls us, so every
path (online scans, batch uploads, imports, overrides, gate uploads, a hand-written
COPY) is counted, and a registration and its count commit or roll back together.

Deltas are only appended: concurrent writers never wait on each other for a counter row
(a shared counter per site and hour would serialize a site's lanes and deadlock against
the audit chain's lock, which some paths take before inserting and others after). The
job `dashboard.fold-hours` (dashboard/rollup.py) moves deltas into `registration_hours`,
one row per key, in one statement that deletes the deltas it adds, so a reader summing
both tables in one statement counts each registration exactly once at any instant.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base
from passtrace.warnings.models import Alert

OPEN_ALERT = ("open", "acknowledged")
# The dashboard's open alerts by rule and age, in an area: read from this index alone
# (an index-only scan of the open alerts under the area prefix; varchar_pattern_ops so
# PostgreSQL can range-scan `queue_area LIKE '5201%'` whatever the collation), not by
# scanning every alert ever raised. Declared here, beside the figure that needs it.
Index("ix_alerts_open_queue", Alert.queue_area, Alert.rule_code, Alert.created_at,
      postgresql_ops={"queue_area": "varchar_pattern_ops"},
      postgresql_where=Alert.status.in_(OPEN_ALERT), sqlite_where=Alert.status.in_(OPEN_ALERT))


class RegistrationHour(Base):
    """Registrations of one site, hour (UTC), verdict and denial reasons; fevers among them.

    `reasons` is the denial's reasons as stored (JSON text), '' for an allowed row.
    `fevers` counts temperatures at or above the site's threshold when the row was
    written: a threshold changed later does not re-judge readings already taken.
    """

    __tablename__ = "registration_hours"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    decision: Mapped[str] = mapped_column(String(8), primary_key=True)
    reasons: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    fevers: Mapped[int] = mapped_column(BigInteger)


class RegistrationHourDelta(Base):
    """Counts one write statement added (or, negative, took away), not yet folded."""

    __tablename__ = "registration_hour_deltas"
    __table_args__ = (Index("ix_registration_hour_deltas_hour", "hour"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    hour: Mapped[datetime]
    site_id: Mapped[uuid.UUID]
    decision: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(BigInteger)
    fevers: Mapped[int] = mapped_column(BigInteger)


class RegistrationAhead(Base):
    """Counts of registrations stamped ahead of the database's clock when written (a
    device clock running fast), by their exact `at` = occurred_at, not folded.

    A row in `registration_hours` or its deltas has already happened when written, so a
    reader counts it for its whole hour; a row stamped ahead of its write would be
    counted before its moment, so the triggers (migration f6a8c0e2b4d7) keep it here,
    and the reader counts it only once `at` is before its `now`. The fold moves rows
    whose `at` has passed by the database's clock into their hour.
    """

    __tablename__ = "registration_ahead"
    __table_args__ = (Index("ix_registration_ahead_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    site_id: Mapped[uuid.UUID]
    decision: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(BigInteger)
    fevers: Mapped[int] = mapped_column(BigInteger)


class StaffCount(Base):
    """Active employees of one enterprise (the report rate's denominator), folded.

    Kept like the hourly registration counts: triggers on employees (migration
    e3f5a7c9b1d2) append each write's change to `staff_count_deltas`; the fold job adds
    them here (dashboard/staff.py). A reader sums both tables in one statement.
    """

    __tablename__ = "staff_counts"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class StaffCountDelta(Base):
    """The change one write statement made to an enterprise's active staff, not folded."""

    __tablename__ = "staff_count_deltas"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    enterprise_id: Mapped[uuid.UUID]
    n: Mapped[int] = mapped_column(BigInteger)
