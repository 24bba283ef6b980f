"""In-app notices a user sees on their home page and at /notices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin


class Notice(IdMixin, CreatedMixin, Base):
    """One message to one user; the text is a msgid translated when shown."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_user_read", "user_id", "read_at"),
                      Index("ix_notices_created_at", "created_at"))  # retention

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    link: Mapped[str] = mapped_column(String(200), default="")
    # Sending the same thing twice is a no-op: the key is unique.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    read_at: Mapped[datetime | None]
