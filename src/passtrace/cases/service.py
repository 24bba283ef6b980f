"""Cases: create, read, list, edit, reclassify, close and reopen, each change kept in history.

Services flush, never commit; every change writes a CaseEvent and an audit entry naming
the case's person, so the person's access log shows who opened or changed their case.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.audit import service as audit_service
from passtrace.cases import authz
from passtrace.cases import window as windows
from passtrace.cases.models import Case, CaseEvent
from passtrace.cases.schemas import CaseCreate, CaseTransition, CaseUpdate
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import local_today, utcnow
from passtrace.core.db import lock_row
from passtrace.core.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.pagination import paginate_query
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.people import service as people_service
from passtrace.people.models import Person

NO_SUCH_CASE = N_("No such case.")
STALE = N_("Someone else changed this case while you were editing it. Nothing was saved: "
           "reload the page and make your change again.")
OUTSIDE_SCOPE = N_("This area is outside your jurisdiction.")
NEED_PERSON = N_("Enter the person's ID number.")
ONE_PERSON = N_("Give either an ID number or a person, not both.")
ALREADY_OPEN = N_("This person already has an open case.")
EDITABLE = ("classification", "onset_date", "sampling_date", "isolation_date", "area_code",
            "source", "notes")


# --- reading ---------------------------------------------------------------------------------

def get_visible(*, session: Session, actor: Principal | None, case_id: uuid.UUID,
                for_manage: bool = False) -> Case:
    """The case, if the actor's jurisdiction covers it (404 otherwise: ids leak nothing)."""
    case = session.get(Case, case_id)
    if case is None or (actor is not None and not authz.can_view(actor, case)):
        raise NotFound(NO_SUCH_CASE)
    if for_manage and actor is not None and not authz.can_manage(actor, case):
        raise Forbidden("Your role does not allow this.")
    return case


def record_reads(*, session: Session, actor: Principal, cases: list[Case], via: str) -> None:
    """Audit that the actor saw these cases' persons (each person's access log shows it)."""
    audit_service.record_many(session=session, actor=actor, entries=[
        {"action": "case.view", "resource_type": "case", "resource_id": c.id,
         "subject_person_id": c.person_id, "detail": {"via": via}} for c in cases])


def read(*, session: Session, actor: Principal, case_id: uuid.UUID, via: str = "page") -> Case:
    """One case, audited as a read of its person's data."""
    case = get_visible(session=session, actor=actor, case_id=case_id)
    record_reads(session=session, actor=actor, cases=[case], via=via)
    return case


def _scoped(actor: Principal, stmt: Select[Any]) -> Select[Any]:
    scopes = authz.area_scopes(actor)
    if scopes is not None and not scopes:
        raise Forbidden("Your account has no jurisdiction over cases.")
    if scopes is not None:
        stmt = stmt.where(or_(*[Case.area_code.startswith(s, autoescape=True) for s in scopes]))
    return stmt


def list_cases(*, session: Session, actor: Principal, status: str | None = None,
               classification: str | None = None, area: str | None = None,
               id_hash: str | None = None, cursor: str | None = None,
               limit: int = 50) -> tuple[list[Case], str | None]:
    """List cases in the actor's jurisdiction, newest first, audited per person shown."""
    stmt = _scoped(actor, select(Case))
    if status:
        stmt = stmt.where(Case.status == status)
    if classification:
        stmt = stmt.where(Case.classification == classification)
    if area:
        stmt = stmt.where(Case.area_code.startswith(significant_prefix(area), autoescape=True))
    if id_hash:
        stmt = stmt.where(Case.person_hash == id_hash)
    rows: list[Case]
    # Newest first: ids are time-ordered UUIDv7, so the id alone is the sort key.
    rows, nxt = paginate_query(session, stmt, [Case.id], cursor=cursor, limit=limit,
                               descending=True)
    record_reads(session=session, actor=actor, cases=rows, via="list")
    return rows, nxt


def history(*, session: Session, actor: Principal, case_id: uuid.UUID,
            via: str | None = None) -> list[CaseEvent]:
    """Every change to a case, oldest first.

    `via` names a read of its own (the API): the history holds the person's onset,
    sampling and isolation dates, so it reaches their access log. The case page reads
    the case (audited) and its history in one request, and passes None.
    """
    case = get_visible(session=session, actor=actor, case_id=case_id)
    if via is not None:
        record_reads(session=session, actor=actor, cases=[case], via=via)
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.at, CaseEvent.id)))


def persons(session: Session, cases: list[Case]) -> dict[uuid.UUID, Person]:
    """The cases' persons by id, in one query."""
    ids = {c.person_id for c in cases}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}


# --- creating --------------------------------------------------------------------------------

def _person(session: Session, rt: Runtime, actor: Principal | None, data: CaseCreate) -> Person:
    if data.id_number and data.person_id:
        raise ValidationFailed(ONE_PERSON, fields={"id_number": ONE_PERSON})
    if data.person_id is not None:
        person = people_service.get(session=session, person_id=data.person_id)
        if person is None:
            raise NotFound("No such person.")
        return person
    if not data.id_number:
        raise ValidationFailed(NEED_PERSON, fields={"id_number": NEED_PERSON})
    return people_service.register_by_id_number(session=session, vault=rt.vault, actor=actor,
                                                id_number=data.id_number)


def _area(session: Session, actor: Principal | None, code: str) -> str:
    area_service.validate_codes(session=session, codes=[code], field="area_code")
    if actor is not None and not authz.can_open_in(actor, code):
        raise ValidationFailed(OUTSIDE_SCOPE, fields={"area_code": OUTSIDE_SCOPE})
    return code


def _window(dates: windows.CaseDates, first: date | None,
            last: date | None) -> tuple[datetime, datetime]:
    windows.check_dates(dates)
    if first is None and last is None:
        start, end = windows.default_window(dates)
        windows.check_length(start, end)
        return start, end
    if first is None or last is None:
        field = "window_start" if first is None else "window_end"
        raise ValidationFailed(windows.BOTH_ENDS, fields={field: windows.BOTH_ENDS})
    return windows.from_days(first, last)


def create(*, session: Session, rt: Runtime, actor: Principal | None, data: CaseCreate) -> Case:
    """Open a case; an ID number nobody registered becomes a protected person record.

    actor None is the command line (the operator at the server), which has no scope.
    """
    if actor is not None and not actor.has("case.manage"):
        raise Forbidden("Your role does not allow this.")
    person = _person(session, rt, actor, data)
    area_code = _area(session, actor, data.area_code)
    dates = windows.CaseDates(data.classification, data.onset_date, data.sampling_date,
                              data.isolation_date)
    start, end = _window(dates, data.window_start, data.window_end)
    # Race: a double tap (or two officials typing the same case) would both find no open
    # case and open two. Lock the person row first, so the second waits and sees the first.
    lock_row(session, Person, person.id)
    if session.scalar(select(Case.id).where(Case.person_id == person.id,
                                            Case.status == "open").limit(1)):
        raise Conflict(ALREADY_OPEN, fields={"id_number": ALREADY_OPEN})
    case = Case(person_id=person.id, person_hash=person.id_hash,
                classification=data.classification, status="open",
                onset_date=data.onset_date, sampling_date=data.sampling_date,
                isolation_date=data.isolation_date, window_start=start, window_end=end,
                area_code=area_code, source=data.source, notes=data.notes,
                created_by=actor.user_id if actor else None, version=1)
    session.add(case)
    session.flush()
    _event(session, actor, case, "create", {k: [None, _plain(v)] for k, v in _state(case).items()
                                            if v not in (None, "")})
    return case


# --- changing --------------------------------------------------------------------------------

def _state(case: Case) -> dict[str, Any]:
    return {"classification": case.classification, "status": case.status,
            "onset_date": case.onset_date, "sampling_date": case.sampling_date,
            "isolation_date": case.isolation_date, "window_start": case.window_start,
            "window_end": case.window_end, "area_code": case.area_code, "source": case.source,
            "notes": case.notes}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _event(session: Session, actor: Principal | None, case: Case, action: str,
           changes: dict[str, list[Any]]) -> None:
    session.add(CaseEvent(case_id=case.id, at=utcnow(), action=action, changes=changes,
                          actor_user_id=actor.user_id if actor else None))
    session.flush()
    audit_service.record(session=session, actor=actor, action=f"case.{action}",
                         resource_type="case", resource_id=case.id,
                         subject_person_id=case.person_id,
                         detail={"version": case.version, "fields": sorted(changes)})


def _compare_and_set(session: Session, actor: Principal | None, case: Case, expected: int,
                     values: dict[str, Any], action: str) -> Case:
    """Write the changed values only if the case is still at `expected`, bumping its version.

    Race: two officials open the same case, both edit and save. Each read version n; a
    plain UPDATE would let the second silently overwrite the first. The UPDATE compares
    the version and bumps it in one statement: on PostgreSQL the second waits for the
    first's row lock, then finds version n + 1 and matches nothing; it is told so (409).
    """
    before = _state(case)
    changes = {k: [_plain(before[k]), _plain(v)] for k, v in values.items() if before[k] != v}
    if case.version != expected:
        raise Conflict(STALE, fields={"version": STALE})
    if not changes:
        return case
    result = session.execute(
        update(Case).where(Case.id == case.id, Case.version == expected)
        .values(**values, version=Case.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(STALE, fields={"version": STALE})
    session.refresh(case)
    _event(session, actor, case, action, changes)
    return case


def update_case(*, session: Session, actor: Principal | None, case_id: uuid.UUID,
                data: CaseUpdate) -> Case:
    """Edit, reclassify or move a case; a window left as its default follows the new dates."""
    case = get_visible(session=session, actor=actor, case_id=case_id, for_manage=True)
    sent = data.model_dump(exclude_unset=True)
    sent.pop("version")
    values = {k: sent[k] for k in EDITABLE if k in sent}
    for key in ("classification", "area_code", "source", "notes"):
        if key in values and values[key] is None:
            del values[key]  # null for a required field means "unchanged"
    if "area_code" in values and values["area_code"] != case.area_code:
        _area(session, actor, values["area_code"])
    old = windows.CaseDates(case.classification, case.onset_date, case.sampling_date,
                            case.isolation_date)
    new = windows.CaseDates(values.get("classification", case.classification),
                            values.get("onset_date", case.onset_date),
                            values.get("sampling_date", case.sampling_date),
                            values.get("isolation_date", case.isolation_date))
    current = (local_today(case.window_start), windows.last_day(case.window_end))
    asked = (sent.get("window_start") or current[0], sent.get("window_end") or current[1])
    # The page sends the window as shown; unchanged, it is not an edit of the window.
    if ("window_start" in sent or "window_end" in sent) and asked != current:
        windows.check_dates(new)
        values["window_start"], values["window_end"] = windows.from_days(*asked)
    elif new != old:
        values["window_start"], values["window_end"] = _rewindow(case, old, new)
    kinds = set(values) - {"window_start", "window_end"}
    action = "reclassify" if kinds == {"classification"} else "edit"
    return _compare_and_set(session, actor, case, data.version, values, action)


def _rewindow(case: Case, old: windows.CaseDates,
              new: windows.CaseDates) -> tuple[datetime, datetime]:
    """The new default when the window was the old default (to the day); else keep it."""
    windows.check_dates(new)
    old_start, old_end = windows.default_window(old, now=case.created_at)
    was_default = old_start == case.window_start and (
        old_end == case.window_end or old.isolation_date is None)
    if not was_default:
        return case.window_start, case.window_end
    start, end = windows.default_window(new)
    windows.check_length(start, end)
    return start, end


def close(*, session: Session, actor: Principal | None, case_id: uuid.UUID,
          data: CaseTransition) -> Case:
    """Close an open case."""
    case = get_visible(session=session, actor=actor, case_id=case_id, for_manage=True)
    if case.status != "open":
        raise InvalidState("This case is already closed.")
    values: dict[str, Any] = {"status": "closed", "closed_at": utcnow()}
    if data.note:
        values["notes"] = (case.notes + "\n" + data.note).strip()
    return _transition(session, actor, case, data, values, "close")


def reopen(*, session: Session, actor: Principal | None, case_id: uuid.UUID,
           data: CaseTransition) -> Case:
    """Reopen a closed case."""
    case = get_visible(session=session, actor=actor, case_id=case_id, for_manage=True)
    if case.status != "closed":
        raise InvalidState("This case is open.")
    # The same race as create(): lock the person before looking for another open case.
    lock_row(session, Person, case.person_id)
    if session.scalar(select(Case.id).where(Case.person_id == case.person_id,
                                            Case.status == "open").limit(1)):
        raise Conflict(ALREADY_OPEN)
    values: dict[str, Any] = {"status": "open", "closed_at": None}
    if data.note:
        values["notes"] = (case.notes + "\n" + data.note).strip()
    return _transition(session, actor, case, data, values, "reopen")


def _transition(session: Session, actor: Principal | None, case: Case, data: CaseTransition,
                values: dict[str, Any], action: str) -> Case:
    closed_at = values.pop("closed_at")
    expected = data.version if data.version is not None else case.version
    before_closed = case.closed_at
    case = _compare_and_set(session, actor, case, expected, values, action)
    if closed_at != before_closed:
        # Not part of the history's before/after (a timestamp, not a decision).
        session.execute(update(Case).where(Case.id == case.id).values(closed_at=closed_at)
                        .execution_options(synchronize_session=False))
        session.refresh(case)
    return case
