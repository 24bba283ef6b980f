"""People: residents, travellers, employees, with personal data protected."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin

STATUSES = ("green", "yellow", "red")


class Person(IdMixin, CreatedMixin, Base):
    """A natural person; the ID number is kept only as a keyed hash plus ciphertext."""

    __tablename__ = "people"

    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_masked: Mapped[str] = mapped_column(String(18))
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(32))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    # A plain health-code status for now; the early-warning platform will own it.
    status: Mapped[str] = mapped_column(String(8), default="green")

    @property
    def id_last4(self) -> str:
        """Return the last 4 characters of the ID number (printed on passes)."""
        return self.id_masked[-4:]
