"""The contact list of a case as CSV or Excel: masked by default, revealed with a reason.

A revealed export carries ID numbers and phones. It needs person.reveal over the case's
area and a purpose and reason (people.reveal_limit.clean_reason), counts as one reveal
against the hourly limit, and is audited twice: one entry for the case (who, how many
rows) and one per listed person, so each sees it in "who viewed my data".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from passtrace.audit import service as audit_service
from passtrace.cases.models import Case
from passtrace.core import export as core_export
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.errors import Forbidden
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.people import reveal_limit
from passtrace.people.models import Person
from passtrace.tracing import service as tracing_service
from passtrace.tracing import tasks as task_service
from passtrace.tracing.models import Contact, TracingTask

HEADER = ("person", "kind", "depth", "first_exposure", "last_exposure", "quarantine_until",
          "area_code", "evidence", "task_status")
REVEALED = ("id_number", "phone")
# Close and secondary contacts are quarantined until the date; general contacts
# (colleagues) are watched, not quarantined, so the list shows them no date: an empty
# cell, which a spreadsheet or a script reads as "no date" (a dash in a date column is
# text that breaks date sorting and parsing). The JSON record keeps `quarantine_until`
# for every contact (docs/cli.md names it).
QUARANTINED_KINDS = ("close", "secondary")
NOT_QUARANTINED = ""


@dataclass(frozen=True)
class Reveal:
    """Why the export is revealed (None: masked)."""

    purpose: str
    reason: str


def _local(at: Any) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Listed:
    """One contact of the list with what may be shown of the person."""

    contact: Contact
    masked: str | None  # the person's masked ID number (None: no person record)
    task_status: str
    id_number: str | None
    phone: str | None


def listed(*, session: Session, rt: Runtime, actor: Principal | None, case: Case,
           reveal: Reveal | None, only: list[Contact] | None = None,
           audit_extra: Mapping[str, Any] | None = None,
           from_run: str | None = None) -> list[Listed]:
    """The case's contacts (or `only` these) for an export, revealed if asked; audited.

    `audit_extra` joins the audit entries' detail (the CLI names the OS account and file).
    `from_run`: only the companions an analytics run added (docs/analytics.md); the
    entries then say so (action contact.companions.export, detail analytics_run), so
    the audit and each listed person's "who viewed my data" show where the list came from.
    """
    reason: str | None = None
    if reveal is not None:
        if actor is not None and not actor.covers_area("person.reveal", case.area_code):
            raise Forbidden("You may not view this person's data.")
        reason = reveal_limit.clean_reason(settings=rt.settings, purpose=reveal.purpose,
                                           reason=reveal.reason)
        if actor is not None:
            # One export is one reveal against the hourly limit, however many rows.
            reveal_limit.check(session=session, settings=rt.settings, user_id=actor.user_id)
    joined = (_joined(session, case, masked_only=reveal is None) if only is None
              else _looked_up(session, only, masked_only=reveal is None))
    action = "contact.export"
    if from_run is not None:
        joined = [j for j in joined if tracing_service.from_run(j[0], from_run)]
        action = "contact.companions.export"
        audit_extra = {**(audit_extra or {}), "analytics_run": from_run}
    contacts = [c for c, _, _, _ in joined]
    out: list[Listed] = []
    for c, masked, p, task_status in joined:
        id_number = phone = None
        if reveal is not None and p is not None:
            id_number = rt.vault.read(p, "id_enc")
            phone = rt.vault.read(p, "phone_enc") if p.phone_enc else ""
        out.append(Listed(c, masked, task_status or "", id_number, phone))
    _audit(session, actor, case, contacts, reveal, reason, audit_extra or {}, action)
    return out


def rows(*, session: Session, rt: Runtime, actor: Principal | None, case: Case,
         reveal: Reveal | None, only: list[Contact] | None = None,
         audit_extra: Mapping[str, Any] | None = None, from_run: str | None = None
         ) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of the case's contact list (for CSV and Excel)."""
    header = list(HEADER) + (list(REVEALED) if reveal else [])
    out: list[list[Any]] = []
    for item in listed(session=session, rt=rt, actor=actor, case=case, reveal=reveal,
                       only=only, audit_extra=audit_extra, from_run=from_run):
        c = item.contact
        row: list[Any] = [item.masked or "", c.kind, c.depth,
                          _local(c.first_exposure), _local(c.last_exposure),
                          c.quarantine_until.isoformat()
                          if c.kind in QUARANTINED_KINDS else NOT_QUARANTINED, c.area_code,
                          " ".join(f"{k}×{n}" for k, n in
                                   tracing_service.evidence_summary(c).items()),
                          item.task_status]
        if reveal:
            row += [item.id_number or "", item.phone or ""]
        out.append(row)
    return header, out


def record(item: Listed) -> dict[str, Any]:
    """One contact as a JSON object (the CLI's JSON lines, docs/cli.md)."""
    c = item.contact
    out: dict[str, Any] = {
        "contact": str(c.id), "person": item.masked,
        "kind": c.kind, "depth": c.depth,
        "via_contact": str(c.via_contact_id) if c.via_contact_id else None,
        "first_exposure": c.first_exposure.isoformat(),
        "last_exposure": c.last_exposure.isoformat(),
        "quarantine_until": c.quarantine_until.isoformat(), "area_code": c.area_code,
        "task_status": item.task_status or None, "evidence": c.evidence}
    if c.evidence_counts is not None:
        # A secondary contact: `evidence` holds its earliest items, these count them all.
        out["evidence_counts"] = c.evidence_counts
    if item.id_number is not None:
        out["id_number"], out["phone"] = item.id_number, item.phone
    return out


# A contact, its person's masked ID number, the person itself (to reveal), its task status.
Joined = tuple[Contact, str | None, Person | None, str | None]


def _joined(session: Session, case: Case, *, masked_only: bool) -> list[Joined]:
    """Every contact of the case with its person and task status, in one statement.

    Joined, not looked up by id: a secondary search's 40,000 ids as IN-lists took
    seconds to send and parse; a masked list reads only the masked ID number.
    """
    person: Any = Person.id_masked if masked_only else Person
    stmt = (select(Contact, person, TracingTask.status)
            .outerjoin(Person, Person.id == Contact.person_id)
            .outerjoin(TracingTask, TracingTask.contact_id == Contact.id)
            .where(Contact.case_id == case.id)
            .order_by(Contact.depth, Contact.kind, Contact.first_exposure, Contact.id))
    if masked_only:
        return [(c, masked, None, status) for c, masked, status in session.execute(stmt)]
    return [(c, p.id_masked if p else None, p, status)
            for c, p, status in session.execute(stmt)]


def _looked_up(session: Session, contacts: list[Contact], *, masked_only: bool
               ) -> list[Joined]:
    """The given contacts with their persons and task statuses."""
    ids = [c.person_id for c in contacts if c.person_id]
    people: dict[uuid.UUID, Person] = {}
    if ids:
        stmt = select(Person).where(Person.id.in_(ids))
        if masked_only:
            stmt = stmt.options(load_only(Person.id_masked))
        people = {p.id: p for p in session.scalars(stmt)}
    tasks = task_service.by_contact(session=session, contact_ids=[c.id for c in contacts])
    out: list[Joined] = []
    for c in contacts:
        p = people.get(c.person_id) if c.person_id else None
        out.append((c, p.id_masked if p else None, None if masked_only else p,
                    tasks[c.id].status if c.id in tasks else None))
    return out


def _audit(session: Session, actor: Principal | None, case: Case, contacts: list[Contact],
           reveal: Reveal | None, reason: str | None, extra: Mapping[str, Any],
           action: str = "contact.export") -> None:
    detail: dict[str, Any] = {"rows": len(contacts), "revealed": reveal is not None, **extra}
    if reveal:
        detail["purpose"] = reveal.purpose
    audit_service.record(session=session, actor=actor, action=action,
                         resource_type="case", resource_id=case.id, reason=reason,
                         detail=detail)
    tracing_service.record_view(session=session, actor=actor, case=case, rows=contacts,
                                action=action, reason=reason,
                                extra={"revealed": reveal is not None, **extra})


def csv_bytes(header: list[str], data: list[list[Any]]) -> Iterator[bytes]:
    """Formula-safe CSV chunks."""
    return core_export.csv_chunks(header, data)


def xlsx_bytes(header: list[str], data: list[list[Any]]) -> Iterator[bytes]:
    """Formula-safe Excel chunks."""
    return core_export.xlsx_chunks(header, data, title="contacts")
