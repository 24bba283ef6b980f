"""'Who viewed my data': a person's audit entries, reveals and exports first, in pages.

Routine reads (a pass shown at a gate a hundred times) must never push the rare
entries that matter — someone read the data in clear, or exported it — out of
sight, so those come first, then everything else; both newest first, paged by id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from passtrace.audit.models import AuditEntry
from passtrace.core.errors import ValidationFailed

PAGE_SIZE = 50


def sensitive_clause() -> ColumnElement[bool]:
    """Entries that read personal data in clear or carried it out of the system."""
    return or_(AuditEntry.action == "person.reveal", AuditEntry.action.like("%.export"))


def is_sensitive(action: str) -> bool:
    """The same test in Python, to mark rows on the page."""
    return action == "person.reveal" or action.endswith(".export")


@dataclass(frozen=True)
class AccessPage:
    """One page of entries (sensitive ones first) and the cursor of the next page."""

    entries: list[AuditEntry]
    next_cursor: str | None


def _parse(cursor: str | None) -> tuple[int, int | None]:
    # "s<id>": more reveals/exports older than id; "o<id>" or "o": the other entries.
    if not cursor:
        return 0, None
    phase, rest = cursor[0], cursor[1:]
    # ASCII digits only, and few enough for a BIGINT ("²".isdigit() is true too).
    bad_id = bool(rest) and not (rest.isascii() and rest.isdigit() and len(rest) <= 18)
    if phase not in "so" or bad_id or (phase == "s" and not rest):
        raise ValidationFailed("This page link is not valid; start again from the first page.")
    return (0 if phase == "s" else 1), (int(rest) if rest else None)


def _older(session: Session, person_id: uuid.UUID, sensitive: bool, before: int | None,
           limit: int) -> list[AuditEntry]:
    clause = sensitive_clause()
    stmt = (select(AuditEntry).where(AuditEntry.subject_person_id == person_id,
                                     clause if sensitive else ~clause)
            .order_by(AuditEntry.id.desc()).limit(limit))
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    return list(session.scalars(stmt))


def access_page(*, session: Session, person_id: uuid.UUID, cursor: str | None = None,
                limit: int = PAGE_SIZE) -> AccessPage:
    """Return one page of who touched a person's data."""
    phase, before = _parse(cursor)
    out: list[AuditEntry] = []
    if phase == 0:
        rows = _older(session, person_id, True, before, limit + 1)
        if len(rows) > limit:
            return AccessPage(rows[:limit], f"s{rows[limit - 1].id}")
        out, before = rows, None
    room = limit - len(out)
    rows = _older(session, person_id, False, before, room + 1)
    if len(rows) > room:
        return AccessPage(out + rows[:room], f"o{rows[room - 1].id}" if room else "o")
    return AccessPage(out + rows, None)
