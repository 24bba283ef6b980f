"""Residential compounds: buildings, households, residents and their outings.

Outings live here, not in communities.outings: who is out and how many outings a
household used are part of every household view, and the household row lock that
counts them is the compound's (visits and deliveries have models of their own).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin

ROLES = ("owner", "tenant", "family", "live_in_worker")
VISITOR_APPROVAL = ("manual", "auto")


class Community(IdMixin, CreatedMixin, Base):
    """A residential compound and its outing rules; gates are sites with its code.

    The code is the compound's 12-digit division code, so officials over an area
    cover it by prefix and gate sites name it in Site.community_code. A rule left
    None does not apply.
    """

    __tablename__ = "communities"

    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    # How many members of one household may be out at the same time.
    max_out_per_household: Mapped[int | None] = mapped_column(SmallInteger)
    # How many outings one household may make in a window of window_days days.
    outings_per_window: Mapped[int | None] = mapped_column(SmallInteger)
    window_days: Mapped[int] = mapped_column(SmallInteger, default=1)
    # Local "HH:MM" times; residents may not go out between them (may wrap midnight).
    curfew_start: Mapped[str | None] = mapped_column(String(5))
    curfew_end: Mapped[str | None] = mapped_column(String(5))
    # Out longer than this and the resident is overdue (the manager is told).
    max_out_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    visitor_approval: Mapped[str] = mapped_column(String(8), default="manual")


class Building(IdMixin, Base):
    """A building of a compound and the names of its units (entrances)."""

    __tablename__ = "community_buildings"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(32))
    units: Mapped[list[str]] = mapped_column(default=lambda: ["1"])


class Household(IdMixin, CreatedMixin, Base):
    """One flat (building, unit, room). Its row is locked while an outing slot is taken."""

    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("building_id", "unit", "room"),
        Index("ix_households_community", "community_id", "building_id", "unit", "room"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("communities.id"))
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_buildings.id"))
    unit: Mapped[str] = mapped_column(String(16))
    room: Mapped[str] = mapped_column(String(16))


class Resident(IdMixin, CreatedMixin, Base):
    """A person living in a household; one household per person per compound."""

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("community_id", "person_id"),
        Index("ix_residents_household", "household_id"),
        Index("ix_residents_person", "person_id"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("communities.id"))
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(16))
    # The long-lived household pass (a Pass with purpose "household").
    pass_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("passes.id"))


class Outing(IdMixin, Base):
    """A resident out of the compound: opened at an allowed "out", closed at the next "in"."""

    __tablename__ = "outings"
    __table_args__ = (
        # "Who is out now" reads only the open outings of one compound.
        Index("ix_outings_open", "community_id", "out_at",
              postgresql_where=text("back_at IS NULL"), sqlite_where=text("back_at IS NULL")),
        Index("ix_outings_household", "household_id", "out_at"),
        Index("ix_outings_back_at", "back_at"),  # retention deletes the oldest first
        Index("ix_outings_person_open", "person_id",
              postgresql_where=text("back_at IS NULL"), sqlite_where=text("back_at IS NULL")),
        # The overdue sweep looks only at open outings nobody was told about yet.
        Index("ix_outings_overdue_pending", "out_at",
              postgresql_where=text("back_at IS NULL AND overdue_noticed_at IS NULL"),
              sqlite_where=text("back_at IS NULL AND overdue_noticed_at IS NULL")),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("communities.id"))
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    out_at: Mapped[datetime]
    back_at: Mapped[datetime | None]
    out_registration_id: Mapped[uuid.UUID | None]
    back_registration_id: Mapped[uuid.UUID | None]
    # Set when the manager was told this outing is overdue (told once).
    overdue_noticed_at: Mapped[datetime | None]


class RuleChange(IdMixin, CreatedMixin, Base):
    """A tightening of a compound's outing rules: coercive, so it carries a reason from
    compounds.rule_changes.RULE_REASONS plus text, and the residents may appeal it."""

    __tablename__ = "community_rule_changes"
    __table_args__ = (Index("ix_community_rule_changes_community", "community_id",
                            "created_at"),)

    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("communities.id"))
    changed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reason_code: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tightened: Mapped[list[str]] = mapped_column(default=list)  # the rule fields made stricter


class RuleAppeal(IdMixin, CreatedMixin, Base):
    """A resident's appeal against a rule change; an official over the area decides.

    One appeal per change per person (the unique key: filing twice at once keeps one).
    """

    __tablename__ = "community_rule_appeals"
    __table_args__ = (UniqueConstraint("change_id", "person_id"),
                      Index("ix_community_rule_appeals_status", "status"))

    change_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("community_rule_changes.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    filed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # upheld | reversed
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
