"""Users, scoped role bindings and login sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passtrace.core.db import Base, CreatedMixin, IdMixin


class User(IdMixin, CreatedMixin, Base):
    """Someone who logs in: staff, officials, residents."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    # The resident/employee this account speaks for, if any.
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))

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

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # web | api
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
