"""Users, scoped role bindings and login sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passtrace.core.db import Base, CreatedMixin, IdMixin
from passtrace.core.pii import PiiBound


def shown_name(display_name: str, username: str) -> str:
    """The name to show others, or "" when the display name is only the login name (an
    account made without a name stores its login name there: never shown to users)."""
    return display_name if display_name != username else ""


class User(PiiBound, IdMixin, CreatedMixin, Base):
    """Someone who logs in: staff, officials, residents."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Set by an admin's password reset: the account has no roles until its owner
    # replaces the temporary password (accounts.service.principal_for).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The resident/employee this account speaks for, if any; set only with proof
    # (accounts.binding). Unique: one account per person, so two sign-ups racing to
    # bind the same person cannot both win.
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), unique=True)
    # The second factor (accounts.second_factor): the TOTP secret, encrypted with the
    # PII vault; set but not yet enabled while the owner is enrolling.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None]
    # The last time step a code was accepted for: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    bindings: Mapped[list[RoleBinding]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class RoleBinding(IdMixin, CreatedMixin, Base):
    """A role held within a scope (an area prefix, a site, a community, an enterprise)."""

    __tablename__ = "role_bindings"
    __table_args__ = (Index("ix_role_bindings_user", "user_id", "role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    scope_type: Mapped[str] = mapped_column(String(16))  # global|area|site|community|enterprise
    scope_value: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship(back_populates="bindings")


class AuthSession(IdMixin, CreatedMixin, Base):
    """A login: a browser session cookie or an API bearer token (stored hashed)."""

    __tablename__ = "auth_sessions"
    # The retention job deletes long-expired sessions, oldest first.
    __table_args__ = (Index("ix_auth_sessions_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # web | api | totp (a login awaiting its code)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ClaimCode(IdMixin, CreatedMixin, Base):
    """A one-time code an office hands a person it registered, to bind their own account.

    Shown once at issue; only a keyed hash is kept. Single use: redeeming sets used_at
    with a conditional UPDATE (see accounts.claim_codes.redeem).
    """

    __tablename__ = "claim_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                                 index=True)
    # The office whose claim (people.PersonClaim) the typed name must match.
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[uuid.UUID]
    issued_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id",
                                                                   ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))


class IdentityAttempt(Base):
    """Sign-up and binding attempts per key (client address, ID number) per hour.

    Kept in the database so every worker process shares the counts. The key is a
    hash: the table holds no address or ID number.
    """

    __tablename__ = "identity_attempts"
    __table_args__ = (UniqueConstraint("key_hash", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(default=0)


class SmsBindCode(IdMixin, CreatedMixin, Base):
    """A one-time code texted to the phone on file, to bind one account to one person.

    Only a keyed hash of the code is kept. One live code per (account, person): a new
    request replaces the old one. Dead after `expires_at`, after MAX_TRIES wrong codes
    (`failed_tries`, counted with an atomic UPDATE), or once used (`used_at`, set with
    a conditional UPDATE): see accounts.sms_binding.
    """

    __tablename__ = "sms_bind_codes"
    __table_args__ = (UniqueConstraint("user_id", "person_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                                 index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    # The office claim whose name was matched and whose phone got the code (None: the
    # person's own proofed phone): its name becomes the person's on binding.
    source_kind: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[uuid.UUID | None]
    expires_at: Mapped[datetime]
    failed_tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class LoginFailure(Base):
    """Recent failed logins per key: one (login name, address) pair, or one address.

    Kept in the database so every worker process shares the counts (accounts.throttle).
    The key is a hash: the table holds no login name or address in clear.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)


class RecoveryCode(IdMixin, CreatedMixin, Base):
    """A single-use code that stands in for the second factor when the phone is lost.

    Only a hash is kept (the codes are random, 50 bits: a plain hash is enough). Used
    once: redeeming sets used_at with a conditional UPDATE (accounts.second_factor).
    """

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                               index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
