"""People: residents, travellers, employees, with personal data protected."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from passtrace.core.db import Base, CreatedMixin, IdMixin
from passtrace.core.pii import PiiBound

STATUSES = ("green", "yellow", "red")


class Person(PiiBound, IdMixin, CreatedMixin, Base):
    """A natural person; the ID number is kept only as a keyed hash plus ciphertext."""

    __tablename__ = "people"
    # The phones stored before phone_hash existed, by their mask (health/search.py).
    __table_args__ = (Index("ix_people_phone_masked_legacy", "phone_masked",
                            postgresql_where=text("phone_hash IS NULL"),
                            sqlite_where=text("phone_hash IS NULL")),)
    # Ciphertexts are bound to the lookup hash: unique, known before the insert (bulk
    # imports insert rows whose id the database never hands back), and never changed.
    PII_BIND = ("id_hash",)

    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_masked: Mapped[str] = mapped_column(String(18))
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(32))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    # The phone's keyed hash (people.service.phone_hash): officials search by it. NULL
    # for a phone stored before the hash existed (health/search.py reads those too).
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # A plain health-code status for now; the early-warning platform will own it.
    # PostgreSQL keeps a fifth of each page free (fillfactor 80, migration e1f2a3b4c5d6)
    # so a status change stays on its page and touches no index (a HOT update).
    status: Mapped[str] = mapped_column(String(8), default="green")
    # When the person's own account proved the identity (a claim code or an SMS code)
    # and set name and phone itself. Until then name and phone only echo the first
    # office's claim (see PersonClaim), shown masked and replaced on proof.
    identity_proofed_at: Mapped[datetime | None]

    @property
    def id_last4(self) -> str:
        """Return the last 4 characters of the ID number (printed on passes)."""
        return self.id_masked[-4:]


CLAIM_SOURCES = ("community", "enterprise", "visit")
# Claims made by an office whose staff check the ID card (a compound's, an employer's):
# only these may name the phone a binding code goes to. A visit invite is any resident's.
OFFICE_SOURCES = ("community", "enterprise")


class PersonClaim(PiiBound, IdMixin, CreatedMixin, Base):
    """What one office (a compound, an employer, a visit invite) says a person is called.

    Third parties never write the person's own identity: each keeps its own claim here,
    so an employer sees the name it uploaded and a false name typed by one office
    neither overwrites nor defines anyone's identity.
    """

    __tablename__ = "person_claims"
    # One claim per (person, source): a source restating its claim updates it.
    __table_args__ = (UniqueConstraint("person_id", "source_kind", "source_id"),)
    # Bound to what the claim is about and who made it (unique, and restating a claim
    # updates the row in place by these columns).
    PII_BIND = ("person_id", "source_kind", "source_id")

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                                 index=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[uuid.UUID]
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(32))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str | None] = mapped_column(String(16))


class RevealCount(Base):
    """How many fields one user revealed in one clock hour (the per-user reveal limit).

    Kept in the database so every worker process shares the count.
    """

    __tablename__ = "reveal_counts"
    __table_args__ = (UniqueConstraint("user_id", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    window_start: Mapped[datetime] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(default=0)
