"""Temporary passes, their revocation list and the signing keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passtrace.core.db import Base, CreatedMixin, IdMixin
from passtrace.core.pii import PiiBound
from passtrace.people.models import Person

PURPOSES = ("commute", "medical", "supply", "emergency", "other")
STATUSES = ("pending", "approved", "rejected", "revoked")


class Pass(PiiBound, IdMixin, CreatedMixin, Base):
    """A temporary pass: applied for, decided, then signed into a QR token."""

    __tablename__ = "passes"
    __table_args__ = (
        Index("ix_passes_person", "person_id", "created_at"),
        Index("ix_passes_status", "status", "created_at"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    applicant_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    areas: Mapped[list[str]] = mapped_column(default=list)
    sites: Mapped[list[str]] = mapped_column(default=list)
    plate: Mapped[str | None] = mapped_column(String(10))
    companions: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    # A coercive revocation (by an official or a compound, not the holder withdrawing):
    # who did it and the reason from passes.coercion.REVOKE_REASONS; it can be appealed.
    revoke_reason_code: Mapped[str | None] = mapped_column(String(24))
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # Longest common code prefix of the areas: reviewers covering every area
    # cover this prefix too, so the approver queue is one indexed LIKE.
    area_prefix: Mapped[str] = mapped_column(String(12), default="", index=True)
    kid: Mapped[str | None] = mapped_column(String(16))
    # The signed "PT1:" text is a bearer credential (whoever shows it passes): kept
    # encrypted with the personal-data key, bound to this row (PiiBound, by id), so a
    # database dump or a reviewer's screen never carries one. Only its holder reads it
    # (service.pass_text); `passtrace keys rotate-pii` re-encrypts it like the rest.
    token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    person: Mapped[Person] = relationship(lazy="joined", innerjoin=True)


class Revocation(Base):
    """One entry of the incremental revocation list; version grows by one each time."""

    __tablename__ = "pass_revocations"

    version: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    pass_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("passes.id"), unique=True)
    revoked_at: Mapped[datetime]
    # When the pass would have expired anyway: later lists may drop it after that.
    expires_at: Mapped[datetime]


class SigningKeyRecord(PiiBound, CreatedMixin, Base):
    """A pass-signing key or the revocation-list key, private half encrypted.

    The trust-list root key is never stored here: it lives in a file read only by the
    command that signs trust lists (passes/trust_root.py). Rows of purpose "root" are
    left by earlier releases until `passtrace keys export-root` moves them out.
    """

    __tablename__ = "signing_keys"
    PII_BIND = ("kid",)

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)  # hex of 8 bytes
    alg: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(8), default="pass")  # pass | list
    private_enc: Mapped[bytes] = mapped_column(LargeBinary)
    public_der: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | retired
    retired_at: Mapped[datetime | None]
    # A retired key still verifies until the last pass it signed expires.
    verify_until: Mapped[datetime | None]


class PassAppeal(IdMixin, CreatedMixin, Base):
    """A holder's appeal against a coercive revocation; an official over the area decides.

    One appeal per revoked pass (the unique pass_id: filing twice at once keeps one).
    """

    __tablename__ = "pass_appeals"
    __table_args__ = (UniqueConstraint("pass_id"), Index("ix_pass_appeals_status", "status"))

    pass_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("passes.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    filed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # upheld | reversed
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # A reversal re-issues the pass with the same details (docs/security.md says why).
    reissued_pass_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("passes.id", ondelete="SET NULL"))

    revoked_pass: Mapped[Pass] = relationship(foreign_keys=[pass_id], lazy="joined",
                                              innerjoin=True)


class MassRevocation(IdMixin, CreatedMixin, Base):
    """A request to revoke more passes at once than one official may (four eyes).

    A different official with the same scope approves it; the row is locked when it is
    decided, so approving twice at once revokes once.
    """

    __tablename__ = "pass_mass_revocations"
    __table_args__ = (Index("ix_pass_mass_revocations_status", "status", "created_at"),)

    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    pass_ids: Mapped[list[str]] = mapped_column(default=list)
    reason_code: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # approved | rejected
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    revoked_count: Mapped[int] = mapped_column(default=0)


class TrustListRecord(CreatedMixin, Base):
    """A trust list as signed by the root key (offline); the server publishes the newest."""

    __tablename__ = "trust_lists"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    version: Mapped[int] = mapped_column(BigInteger, unique=True)
    # The root's public half (checkpoints pin it); its private half is never stored.
    root_kid: Mapped[str] = mapped_column(String(16))
    root_alg: Mapped[str] = mapped_column(String(8))
    root_public_der: Mapped[bytes] = mapped_column(LargeBinary)
    # What GET /passes/trust-list answers: version, issued_at, keys, revocation_key, signed.
    listing: Mapped[dict[str, Any]] = mapped_column(default=dict)
