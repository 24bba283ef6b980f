"""A companions run's result into a case's contacts, for the tracing teams.

The result holds persons as keyed hashes only. Here an official with tracing authority
over a case's area hands the companions found with that case's person to the tracing
domain (tracing.service.add_outside): hashes are matched to person records, merged into
the case's contacts as close contacts with `analytics_companion` evidence, and given
tracing tasks. Nothing here reveals anyone: the contact list is then masked as ever, and
revealing it goes through the tracing export's permission, purpose and reason.

analytics imports tracing, never the other way round (import-linter: acyclic siblings).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.analytics import service
from passtrace.analytics.models import AnalyticsRun
from passtrace.audit import service as audit_service
from passtrace.audit.models import AuditEntry
from passtrace.cases.models import Case
from passtrace.core.config import Settings
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.tracing import contacts as contact_search
from passtrace.tracing import service as tracing_service

PERMISSION = "contact.manage"  # as running the contact search (roles.md)
ACTION = "analytics.convert"
EVIDENCE_KIND = "analytics_companion"

NOT_COMPANIONS = N_("Only a companions run can be added to a case's contacts.")
NOT_DONE = N_("The run has not finished yet.")
NOT_LISTED = N_("That case is not one of this run's cases.")
NO_CASES = N_("This run starts from no case: there is no case to add its companions to.")
OLD_RESULT = N_("This result does not say which case each companion was with: run the job "
                "again.")
NEEDED = ("date", "index_hash", "person_hash", "window_hits", "stay_overlaps", "first_at",
          "last_at")


@dataclass(frozen=True)
class CaseResult:
    """What converting did for one case (persons: new contacts, stored ones that gained
    the evidence, stored ones that had it already, hashes with no person record)."""

    case_id: uuid.UUID
    added: int
    merged: int
    unchanged: int
    unknown: int
    tasks_made: int


def listed_cases(run: AnalyticsRun) -> list[str]:
    """The case ids the run started from."""
    return [str(c) for c in run.params.get("case_ids", [])]


def _cases(session: Session, actor: Principal, run: AnalyticsRun,
           case_id: uuid.UUID | None) -> list[Case]:
    listed = listed_cases(run)
    if not listed:
        raise ValidationFailed(NO_CASES)
    wanted = listed if case_id is None else [str(case_id)]
    if case_id is not None and str(case_id) not in listed:
        raise ValidationFailed(NOT_LISTED, fields={"case": NOT_LISTED})
    if not actor.has(PERMISSION):
        raise Forbidden("Your role does not allow this.")
    out = []
    for raw in wanted:
        case = session.get(Case, uuid.UUID(raw))
        # Another district's case (or one deleted since): the same answer as no case, and
        # with "all cases", nothing is added to any of them.
        if case is None or not actor.covers_area(PERMISSION, case.area_code):
            raise NotFound("No such case.")
        out.append(case)
    return out


def _result(results_dir: str, run: AnalyticsRun) -> list[dict[str, Any]]:
    path = service.result_path(results_dir, run)
    if not path.exists():
        raise ValidationFailed(NOT_DONE)
    table = pq.read_table(path)
    if any(c not in table.column_names for c in NEEDED):
        raise ValidationFailed(OLD_RESULT)
    return table.select(list(NEEDED)).to_pylist()


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _outside(run: AnalyticsRun, rows: Sequence[dict[str, Any]]
             ) -> list[contact_search.Outside]:
    """One index person's rows of the result as evidence items (one per day)."""
    out = []
    for r in rows:
        first, last = _utc(r["first_at"]), _utc(r["last_at"])
        out.append(contact_search.Outside(r["person_hash"], first, last, {
            "kind": EVIDENCE_KIND, "run": str(run.id), "day": r["date"].isoformat(),
            "window_hits": int(r["window_hits"]), "stay_overlaps": int(r["stay_overlaps"]),
            "from": first.astimezone(UTC).isoformat(),
            "to": last.astimezone(UTC).isoformat()}))
    return out


def to_contacts(*, session: Session, settings: Settings, actor: Principal,
                run_id: uuid.UUID, case_id: uuid.UUID | None) -> list[CaseResult]:
    """Add a finished companions run's companions to one listed case's contacts, or to
    each listed case's (case_id None), each case getting those found with its person.

    Idempotent by (case, person hash): adding again changes nothing. Everything is
    checked before anything is written: a refusal changes nothing. Audited per case
    (who, which run, which case, how many added, merged, unchanged, unknown).
    """
    run = service.get(session=session, actor=actor, run_id=run_id)
    if run.job != "companions":
        raise ValidationFailed(NOT_COMPANIONS)
    if run.status != "done":
        raise ValidationFailed(NOT_DONE)
    cases = _cases(session, actor, run, case_id)
    by_index: dict[str, list[dict[str, Any]]] = {}
    for r in _result(settings.analytics_results_dir, run):
        by_index.setdefault(r["index_hash"], []).append(r)
    out = []
    for case in cases:
        added = tracing_service.add_outside(
            session=session, settings=settings, case=case,
            found=_outside(run, by_index.get(case.person_hash, [])))
        result = CaseResult(case.id, added.added, added.merged, added.unchanged,
                            added.unknown, added.tasks_made)
        audit_service.record(session=session, actor=actor, action=ACTION,
                             resource_type="analytics_run", resource_id=run.id,
                             detail={"case": str(case.id), "added": result.added,
                                     "merged": result.merged, "unchanged": result.unchanged,
                                     "unknown": result.unknown,
                                     "tasks_made": result.tasks_made})
        out.append(result)
    return out


@dataclass(frozen=True)
class Conversion:
    """One conversion as the run's page shows it: when, by whom, into which case."""

    at: datetime
    actor_user_id: uuid.UUID | None
    case_id: str
    added: int
    merged: int
    unchanged: int
    unknown: int


def conversions(*, session: Session, run: AnalyticsRun) -> list[Conversion]:
    """The run's conversions, newest first (read from the audit: it is the record)."""
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.resource_type == "analytics_run", AuditEntry.resource_id == str(run.id),
        AuditEntry.action == ACTION).order_by(AuditEntry.id.desc()).limit(50))
    return [Conversion(e.at, e.actor_user_id, str(e.detail.get("case", "")),
                       int(e.detail.get("added", 0)), int(e.detail.get("merged", 0)),
                       int(e.detail.get("unchanged", 0)), int(e.detail.get("unknown", 0)))
            for e in entries]
