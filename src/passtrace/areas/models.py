"""Administrative divisions (GB/T 2260 codes and deeper street/community codes)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base

LEVELS = ("province", "city", "district", "street", "community")


class Area(Base):
    """A division; a code's ancestors are its prefixes, so containment is a prefix test."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(96))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
