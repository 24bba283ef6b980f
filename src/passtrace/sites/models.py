"""Sites, the devices at them, and thermal-scanner readings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.clock import utcnow
from passtrace.core.db import Base, CreatedMixin, IdMixin

KINDS = ("road_checkpoint", "temporary_intersection", "community_gate", "enterprise_gate",
         "venue")
DEFAULT_FEVER_C = 37.3


class Site(IdMixin, CreatedMixin, Base):
    """A place where people are checked; staff are role bindings scoped to its code."""

    __tablename__ = "sites"

    # The code printed on passes (claim "sites") and used in role bindings.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    lanes: Mapped[list[str]] = mapped_column(default=lambda: ["1"])
    # "HH:MM-HH:MM" ranges in local time (Asia/Shanghai); empty means always open.
    opening_hours: Mapped[list[str]] = mapped_column(default=list)
    fever_threshold: Mapped[float] = mapped_column(
        Numeric(3, 1, asdecimal=False), default=DEFAULT_FEVER_C)
    # A community gate belongs to a compound (its 12-digit code); empty otherwise.
    community_code: Mapped[str] = mapped_column(String(12), default="", index=True)
    active: Mapped[bool] = mapped_column(default=True)


class Device(IdMixin, CreatedMixin, Base):
    """A machine that talks to the API on its own (a thermal scanner), with a site-scoped token."""

    __tablename__ = "devices"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    lane: Mapped[str] = mapped_column(String(16), default="1")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]


class DeviceSync(Base):
    """What a checkpoint phone last told us about its offline queue."""

    __tablename__ = "device_syncs"
    __table_args__ = (UniqueConstraint("site_id", "device_key"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    # The browser's own id for itself (kept in its storage), not a Device row.
    device_key: Mapped[str] = mapped_column(String(64))
    operator_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    pending: Mapped[int] = mapped_column(default=0)
    last_seen_at: Mapped[datetime]
    last_sync_at: Mapped[datetime | None]
    # When this phone first reported: with the operator, what the site page names it by
    # (the browser's own key means nothing to a reader). Null only if never recorded.
    first_seen_at: Mapped[datetime | None] = mapped_column(default=utcnow)


class ThermalReading(Base):
    """One temperature read by a scanner at a lane; the latest is offered to the operator."""

    __tablename__ = "thermal_readings"
    __table_args__ = (Index("ix_thermal_readings_lane", "site_id", "lane", "read_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"))
    lane: Mapped[str] = mapped_column(String(16))
    temperature: Mapped[float] = mapped_column(Numeric(3, 1, asdecimal=False))
    read_at: Mapped[datetime]
