"""Form submissions already saved: what makes a double tap on a supplies form harmless.

Every supplies form carries a fresh id (made when the form is shown). The page claims
that id before it moves any stock, in the same transaction as the movement, and stores
where the result is shown. A retry (the same form sent again) finds the claim and goes
to that result instead of receiving, issuing or filing a second time.

The race: two taps of one form arriving at once. Each looks for the id, finds none and
would move the stock twice. The primary key on the id is the guard: the second INSERT
waits for the first transaction (PostgreSQL) or its writer turn (SQLite), then fails;
the page then reads the winner's result (tests/supplies/test_submission_race.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from passtrace.core.clock import utcnow
from passtrace.core.db import Base


class FormSubmission(Base):
    """One saved supplies form: its id and the page that shows what it did."""

    __tablename__ = "supply_form_submissions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    result_url: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def claim(session: Session, form_id: uuid.UUID, kind: str) -> str | None:
    """Claim the form id for this submission; None when it is ours to save, else the
    page where the earlier submission of the same form shows its result."""
    earlier = session.get(FormSubmission, form_id)
    if earlier is not None:
        return earlier.result_url or "/supplies"
    try:
        with session.begin_nested():
            session.add(FormSubmission(id=form_id, kind=kind, result_url="", created_at=utcnow()))
            session.flush()
    except IntegrityError:
        # The other tap committed this id first: show what it saved.
        session.expire_all()
        winner = session.get(FormSubmission, form_id)
        return (winner.result_url if winner else "") or "/supplies"
    return None


def done(session: Session, form_id: uuid.UUID, result_url: str) -> str:
    """Record where the saved submission's result is shown; return that url."""
    row = session.get(FormSubmission, form_id)
    assert row is not None  # claimed in this transaction
    row.result_url = result_url
    session.flush()
    return result_url
