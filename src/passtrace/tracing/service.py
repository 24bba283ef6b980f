"""Tracing use cases for the API, pages and CLI: who may, run, list (audited)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.cases.models import Case
from passtrace.core.config import Settings
from passtrace.core.errors import Forbidden, NotFound
from passtrace.core.pagination import paginate_query
from passtrace.core.security import Principal
from passtrace.people.models import Person
from passtrace.tracing import contacts as contact_search
from passtrace.tracing import tasks as task_service
from passtrace.tracing.models import Contact, TracingTask


def options_from(settings: Settings, *, window_minutes: int | None = None,
                 colleagues: bool = False) -> contact_search.Options:
    """Search options from the settings (M per site kind, quarantine days) and the request."""
    return contact_search.Options(window_minutes=window_minutes,
                                  overlap_minutes=dict(settings.contact_stay_overlap_minutes),
                                  colleagues=colleagues,
                                  quarantine_days=settings.contact_quarantine_days)


def case_for(*, session: Session, principal: Principal | None, case_id: uuid.UUID,
             permission: str = "contact.view") -> Case:
    """The case, if the principal covers its area: no such role 403, another area 404.

    principal None is the command line (an operator with the database in hand).
    """
    if principal is not None and not principal.has(permission):
        raise Forbidden("Your role does not allow this.")
    case = session.get(Case, case_id)
    if case is None or (principal is not None
                        and not principal.covers_area(permission, case.area_code)):
        raise NotFound("No such case.")
    return case


def run(*, session: Session, settings: Settings, actor: Principal | None, case: Case,
        window_minutes: int | None = None, depth: int = 1,
        colleagues: bool = False) -> list[contact_search.Stored]:
    """Find and store the case's contacts, give new close ones a task, audit the run (one
    entry: the search reads no person's data beyond what the listing then records)."""
    found = contact_search.search_and_store(
        session=session, case=case, depth=depth,
        options=options_from(settings, window_minutes=window_minutes, colleagues=colleagues))
    newly = [c for c in found if c.newly_close]
    made = task_service.ensure(session=session, contacts=newly, case_area=case.area_code,
                               fresh=all(c.new for c in newly))
    audit_service.append(session=session, actor=actor, action="contact.search",
                         resource_type="case", resource_id=case.id,
                         detail={"contacts": len(found), "tasks_made": made, "depth": depth,
                                 "window_minutes": window_minutes or case.window_minutes})
    return found


@dataclass(frozen=True)
class Added:
    """What adding outside evidence to a case's contacts did (counted by person)."""

    added: int
    merged: int
    unchanged: int
    unknown: int
    tasks_made: int


def add_outside(*, session: Session, settings: Settings, case: Case,
                found: list[contact_search.Outside]) -> Added:
    """Make the persons found outside the search (an analytics run's companions) close
    contacts of the case, merged into the stored ones (contacts.merge_outside), and give
    the newly close ones a tracing task like the search's. The caller audits (it knows
    where the evidence came from); the case's area is checked by the caller too."""
    merged = contact_search.merge_outside(session=session, case=case, found=found,
                                          days=settings.contact_quarantine_days)
    newly = [c for c in merged.stored if c.newly_close]
    made = task_service.ensure(session=session, contacts=newly, case_area=case.area_code,
                               fresh=all(c.new for c in newly))
    return Added(merged.added, merged.merged, merged.unchanged, len(merged.unknown), made)


def from_run(contact: Contact, run_id: str) -> bool:
    """Whether the contact holds evidence from this analytics run."""
    return any(e.get("kind") == "analytics_companion" and e.get("run") == run_id
               for e in contact.evidence)


def stored(*, session: Session, found: list[contact_search.Stored]) -> list[Contact]:
    """The stored rows of a search's contacts, in its order (the CLI prints them)."""
    return contact_search.load(session, [c.id for c in found])


def record_view(*, session: Session, actor: Principal | None, case: Case,
                rows: list[Contact], action: str = "contact.view",
                extra: dict[str, Any] | None = None, reason: str | None = None,
                also: list[uuid.UUID] | None = None) -> None:
    """Each listed person with a record sees this read in "who viewed my data": one entry
    per person, written in one statement (audit.service.record_people). `also`: other
    persons the view showed (the chain graph draws the case's own person)."""
    audit_service.record_people(session=session, actor=actor, action=action,
                                resource_type="case", resource_id=case.id, reason=reason,
                                people=[c.person_id for c in rows if c.person_id is not None]
                                + list(also or ()),
                                detail=dict(extra or {}))


def record_task_view(*, session: Session, actor: Principal, contacts: list[Contact]) -> None:
    """A task list read: each listed person with a record sees it."""
    entries = [{"action": "contact.view", "resource_type": "case", "resource_id": c.case_id,
                "subject_person_id": c.person_id, "detail": {"contact": str(c.id)}}
               for c in contacts if c.person_id is not None]
    audit_service.record_many(session=session, actor=actor, entries=entries)


@dataclass(frozen=True)
class ContactRow:
    """A contact with its task (None for secondary and general contacts) and its person's
    masked ID number (None without a person record)."""

    contact: Contact
    task: TracingTask | None
    masked: str | None = None


def page(*, session: Session, actor: Principal | None, case: Case, cursor: str | None,
         limit: int | None) -> tuple[list[ContactRow], str | None]:
    """One page of the case's stored contacts, nearest first (depth, kind, first exposure).

    Close contacts come before general ones of the same depth ("close" < "general" <
    "secondary" as text): the people to reach today head the list, not the colleagues
    met earlier in the window."""
    stmt = select(Contact).where(Contact.case_id == case.id)
    rows: list[Contact]
    rows, nxt = paginate_query(session, stmt, [Contact.depth, Contact.kind,
                                               Contact.first_exposure, Contact.id],
                               cursor=cursor, limit=limit)
    record_view(session=session, actor=actor, case=case, rows=rows)
    # The page's tasks and masked ID numbers in one statement (each a round trip of its
    # own before: on a machine at load 10 every round trip waits to be scheduled).
    extra: dict[uuid.UUID, tuple[TracingTask | None, str | None]] = {}
    if rows:
        extra = {cid: (task, masked) for cid, task, masked in session.execute(
            select(Contact.id, TracingTask, Person.id_masked).select_from(Contact)
            .outerjoin(TracingTask, TracingTask.contact_id == Contact.id)
            .outerjoin(Person, Person.id == Contact.person_id)
            .where(Contact.id.in_([c.id for c in rows])))}
    return [ContactRow(c, *extra.get(c.id, (None, None))) for c in rows], nxt


def all_contacts(*, session: Session, case: Case) -> list[Contact]:
    """Every stored contact of the case (exports, the chain graph), nearest first."""
    return list(session.scalars(select(Contact).where(Contact.case_id == case.id)
                                .order_by(Contact.depth, Contact.kind, Contact.first_exposure,
                                          Contact.id)))


def evidence_summary(contact: Contact) -> dict[str, int]:
    """How many pieces of evidence of each kind (a secondary contact keeps only a few
    items, and the counts)."""
    if contact.evidence_counts is not None:
        return dict(contact.evidence_counts)
    out: dict[str, int] = {}
    for e in contact.evidence:
        out[e["kind"]] = out.get(e["kind"], 0) + 1
    return out
