"""The audit log, filtered for a supervisor: a page at a time, or exported."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding, User, shown_name
from passtrace.audit import service as audit_service
from passtrace.audit.models import AuditEntry
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_, gettext
from passtrace.core.pii import PiiVault
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number
from passtrace.oversight import actor_labels, scope
from passtrace.people import service as people_service

PAGE_SIZE = 50
EXPORT_BATCH = 2000
LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # supervisors give dates in local time
MAX_EXPORT_DAYS = 366


@dataclass(frozen=True)
class Filters:
    """What a supervisor asked for; every field optional."""

    actor: str = ""  # the acting user's id, picked from actor_choices (never a login name)
    action: str = ""
    person: str = ""  # an ID number; looked up by its keyed hash, never stored
    area: str = ""
    start: date | None = None
    end: date | None = None

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for paging and export links)."""
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in asdict(self).items() if v}

    def audit_detail(self) -> dict[str, str]:
        """What an export records about itself (the ID number masked)."""
        detail = self.query()
        if self.person:
            detail["person"] = self.person[:3] + "*" * 11 + self.person[-4:]
        return detail


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def check_days(*days: date | None) -> None:
    """Refuse dates no audit entry can have (and that overflow once shifted to UTC)."""
    for day in days:
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationFailed("Choose a date between %(first)s and %(last)s.",
                                   first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())


def local_day_start(day: date) -> datetime:
    """The UTC instant a local day begins."""
    return datetime.combine(day, time(0), LOCAL_TZ)


def _statement(session: Session, vault: PiiVault, principal: Principal,
               f: Filters) -> tuple[Select[AuditEntry], uuid.UUID | None]:
    """The filtered entries, and the person an ID number filter names (if on file)."""
    prefixes = scope.prefixes_for(principal, f.area or None)
    check_days(f.start, f.end)
    stmt = select(AuditEntry)
    subject: uuid.UUID | None = None
    if prefixes is not None:
        stmt = stmt.where(scope.actors_in(prefixes))
    if f.actor:
        try:
            actor_id = uuid.UUID(f.actor)
        except ValueError:
            raise ValidationFailed(N_("Choose the person from the list."),
                                   fields={"actor": N_("Choose the person from the list.")}
                                   ) from None
        stmt = stmt.where(AuditEntry.actor_user_id == actor_id)
    if f.action:
        # "person.reveal" exactly, or "person." for every action on people.
        stmt = stmt.where(AuditEntry.action.startswith(f.action) if f.action.endswith(".")
                          else AuditEntry.action == f.action)
    if f.person:
        try:
            id_number = validate_id_number(f.person)
        except InvalidValue as exc:
            raise ValidationFailed(exc.message, fields={"person": exc.message}) from None
        person = people_service.find_by_id_number(session=session, vault=vault,
                                                  id_number=id_number)
        subject = person.id if person else None
        stmt = stmt.where(AuditEntry.subject_person_id == (subject or uuid.uuid4()))
    if f.start and f.end and f.end < f.start:
        raise ValidationFailed("The end date is before the start date.",
                               fields={"end": N_("The end date is before the start date.")})
    if f.start:
        stmt = stmt.where(AuditEntry.at >= local_day_start(f.start))
    if f.end:
        stmt = stmt.where(AuditEntry.at < local_day_start(f.end + timedelta(days=1)))
    return stmt, subject


# More staff than a list can usefully hold: past this the area filter narrows it first.
MAX_ACTOR_CHOICES = 1000


def actor_choices(*, session: Session, principal: Principal,
                  area: str = "") -> list[tuple[str, str]]:
    """The staff whose actions this supervisor may review, as (user id, role · office).

    A supervisor picks a person from this list instead of typing a login name; two
    people with the same role and office are told apart by their display names.
    """
    prefixes = scope.prefixes_for(principal, area or None)
    staff = (select(RoleBinding.user_id).where(RoleBinding.role != "public")
             if prefixes is None else scope.users_in(prefixes))
    rows = session.execute(select(User.id, User.display_name, User.username)
                           .where(User.id.in_(staff)).order_by(User.id)
                           .limit(MAX_ACTOR_CHOICES)).all()
    labels = actor_labels.describe(session, [r[0] for r in rows])
    counts = Counter(labels.get(r[0], "") for r in rows)
    out = []
    for user_id, name, username in rows:
        display_name = shown_name(name, username)
        label = labels.get(user_id) or gettext("Staff")
        if counts[labels.get(user_id, "")] > 1 and display_name:
            # Chinese takes full-width brackets, English plain ones with a space.
            label = gettext("%(role)s (%(name)s)", role=label, name=display_name)
        out.append((str(user_id), label))
    return sorted(out, key=lambda c: c[1])


@dataclass(frozen=True)
class Page:
    """Entries newest first and the id to continue before (keyset paging)."""

    entries: list[AuditEntry]
    next_before: int | None


def page(*, session: Session, vault: PiiVault, principal: Principal, filters: Filters,
         before: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """One page of the filtered log, newest first.

    Looking a person up by ID number reads their history (a case, a flag, who read
    what): they find that in their own access log, as any other read of their data.
    """
    stmt, subject = _statement(session, vault, principal, filters)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    if subject is not None:
        audit_service.record(session=session, actor=principal, action="audit.view",
                             resource_type="audit", subject_person_id=subject,
                             detail=filters.audit_detail())
    if len(rows) > limit:
        return Page(rows[:limit], rows[limit - 1].id)
    return Page(rows, None)


EXPORT_HEADER = ("id", "position", "time_utc", "actor", "action", "resource_type",
                 "resource_id", "person_id", "reason", "ip", "hash")


def start_export(*, session: Session, vault: PiiVault, principal: Principal,
                 filters: Filters) -> Select[AuditEntry]:
    """Check the filters and the right, record the export itself; return what to stream."""
    stmt, subject = _statement(session, vault, principal, filters)
    # Filtered to one person: the export is theirs to see (sensitive, listed first).
    audit_service.record(session=session, actor=principal, action="audit.export",
                         resource_type="audit", subject_person_id=subject,
                         detail=filters.audit_detail())
    return stmt


def export_batches(session: Session, stmt: Select[AuditEntry]
                   ) -> Iterator[Sequence[Sequence[Any]]]:
    """Rows for the CSV in id order, a batch at a time (keyset, so memory stays flat)."""
    after = 0
    while True:
        batch = list(session.scalars(stmt.where(AuditEntry.id > after)
                                     .order_by(AuditEntry.id).limit(EXPORT_BATCH)))
        if not batch:
            return
        yield [(e.id, e.seq, e.at.isoformat(timespec="seconds"), e.actor_name, e.action,
                e.resource_type, e.resource_id, str(e.subject_person_id or ""), e.reason or "",
                e.ip or "", e.hash) for e in batch]
        after = batch[-1].id
