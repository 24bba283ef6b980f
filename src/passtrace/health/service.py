"""Raise and clear status flags; keep people.status (what checkpoints read) in step.

The API the warnings rules call: raise_flag (idempotent by its dedupe key),
clear_flag, current. Every change of a person's flags runs under a lock on the
person's row and ends in `_settle`, which derives the status from the live flags,
writes it to people.status, keeps the history and tells the person.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.audit import service as audit
from passtrace.core.clock import utcnow
from passtrace.core.db import dialect_insert, locked
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.health.derive import Derived, derive
from passtrace.health.models import LEVELS, StatusChange, StatusFlag
from passtrace.notices.service import InAppNotifier, Message
from passtrace.people.models import Person

# Reason keys and sources are codes (shown translated through reasons.py, never as is).
_CODE = re.compile(r"^[a-z][a-z0-9_.:-]{0,47}$")
MAX_EVIDENCE_BYTES = 8000
# What the person's notice says, per status reached (the reason is on the status page).
STATUS_NOTICES = {
    "green": N_("Your health status is now green."),
    "yellow": N_("Your health status is now yellow. Open your status page to see why."),
    "red": N_("Your health status is now red. Open your status page to see why."),
}
STATUS_PAGE = "/health/me"


def check_flag_input(*, level: str, source: str, reason: str, evidence: dict[str, Any],
                      until: datetime | None, starts_at: datetime, dedupe_key: str,
                      now: datetime) -> None:
    fields: dict[str, str] = {}
    if level not in LEVELS:
        fields["level"] = N_("Choose yellow or red.")
    if not _CODE.match(source):
        fields["source"] = N_("Not a known source.")
    if not _CODE.match(reason):
        fields["reason"] = N_("Not a known reason.")
    if not dedupe_key or len(dedupe_key) > 160:
        fields["dedupe_key"] = N_("Give a key of at most 160 characters.")
    try:
        if len(json.dumps(evidence)) > MAX_EVIDENCE_BYTES:
            fields["evidence"] = N_("The evidence is too long.")
    except (TypeError, ValueError):
        fields["evidence"] = N_("The evidence must be plain data.")
    if starts_at.tzinfo is None or (until is not None and until.tzinfo is None):
        fields["until"] = N_("Give times with their time zone.")
    elif starts_at > now:
        fields["starts_at"] = N_("A flag cannot start in the future.")
    elif until is not None and until <= starts_at:
        fields["until"] = N_("The end must come after the start.")
    if fields:
        raise ValidationFailed(N_("The flag is not valid."), fields=fields)


def raise_flag(*, session: Session, person_id: uuid.UUID, level: str, source: str,
               reason: str, evidence: dict[str, Any], until: datetime | None,
               dedupe_key: str, starts_at: datetime | None = None,
               actor: Principal | None = None, area_code: str | None = None) -> bool:
    """Raise one flag; True if it is new, False if its dedupe key was raised before.

    `area_code`: where its reason arose (district counts; None when unknown).

    Re-raising (a rule re-run) creates nothing and changes nothing, even when the first
    flag was cleared since: a cleared flag stays cleared until a new key is raised.
    Callers check their own permission: rules run as the system (actor None).
    """
    now = utcnow()
    starts = starts_at or now
    check_flag_input(level=level, source=source, reason=reason, evidence=evidence,
                      until=until, starts_at=starts, dedupe_key=dedupe_key, now=now)
    # A rule re-run mostly finds its flag raised already: answer that without a lock.
    if session.scalar(select(StatusFlag.id).where(StatusFlag.dedupe_key == dedupe_key)):
        return False
    # Race: two flags raised for one person at once. Each transaction would derive the
    # status from the flags it sees (its own, not the other's uncommitted one) and the
    # last to commit would write a status missing the other's flag (red overwritten by
    # yellow). Locking the person first makes the second wait, then see the first's flag.
    person = locked(session, Person, person_id)
    if person is None:
        raise NotFound(N_("No such person."))
    flag_id = session.scalar(
        dialect_insert(session)(StatusFlag).on_conflict_do_nothing(
            index_elements=["dedupe_key"]).values(
            id=uuid7(), created_at=now, person_id=person_id, level=level, source=source,
            reason=reason, evidence=evidence, starts_at=starts, until=until,
            dedupe_key=dedupe_key, area_code=area_code).returning(StatusFlag.id))
    if flag_id is None:  # raised by another transaction since our first look
        return False
    audit.record(session=session, actor=actor, action="health.flag.raise",
                 resource_type="status_flag", resource_id=flag_id,
                 subject_person_id=person_id,
                 detail={"level": level, "source": source, "reason": reason})
    _settle(session, person, event="raised", flag_id=flag_id, reason=reason,
            actor=actor, now=now)
    return True


def clear_flag(*, session: Session, dedupe_key: str, actor: Principal | None,
               reason: str) -> bool:
    """Clear the flag raised under `dedupe_key` (a negative test, an upheld appeal).

    True if it was live and is now cleared; False if it was cleared already. Callers
    check their own permission (a status set by hand is changed through four-eyes).
    """
    if not _CODE.match(reason):
        raise ValidationFailed(N_("Not a known reason."),
                               fields={"reason": N_("Not a known reason.")})
    found = session.scalar(select(StatusFlag).where(StatusFlag.dedupe_key == dedupe_key))
    if found is None:
        raise NotFound(N_("No such flag."))
    # Race: clearing while another flag is raised (see raise_flag): lock the person.
    person = locked(session, Person, found.person_id)
    flag = locked(session, StatusFlag, found.id)
    if person is None or flag is None:
        raise NotFound(N_("No such flag."))
    if flag.cleared_at is not None:
        return False
    now = utcnow()
    flag.cleared_at = now
    flag.cleared_by = actor.user_id if actor else None
    flag.cleared_reason = reason
    session.flush()
    audit.record(session=session, actor=actor, action="health.flag.clear",
                 resource_type="status_flag", resource_id=flag.id,
                 subject_person_id=person.id, detail={"reason": reason})
    _settle(session, person, event="cleared", flag_id=flag.id, reason=reason,
            actor=actor, now=now)
    return True


def live_flags(session: Session, person_id: uuid.UUID, now: datetime) -> list[StatusFlag]:
    """The person's flags that may count now (derive() has the last word)."""
    return list(session.scalars(
        select(StatusFlag).where(StatusFlag.person_id == person_id,
                                 StatusFlag.cleared_at.is_(None),
                                 (StatusFlag.until.is_(None)) | (StatusFlag.until > now))
        .order_by(StatusFlag.id)))


def current(*, session: Session, person_id: uuid.UUID,
            now: datetime | None = None) -> Derived[StatusFlag]:
    """The person's status now, with the live flags that explain it (worst first)."""
    return derive(live_flags(session, person_id, now or utcnow()), now or utcnow())


def history(*, session: Session, person_id: uuid.UUID, limit: int = 50) -> list[StatusChange]:
    """The person's status history, newest first."""
    return list(session.scalars(select(StatusChange).where(StatusChange.person_id == person_id)
                                .order_by(StatusChange.at.desc(), StatusChange.id.desc())
                                .limit(limit)))


def _settle(session: Session, person: Person, *, event: str, flag_id: uuid.UUID | None,
            reason: str, actor: Principal | None, now: datetime) -> str:
    """Derive the status (the caller holds the person's lock), store it, keep the history.

    Returns the status; tells the person's account when it changed.
    """
    before = person.status
    # Derive at the time the lock was won, not when the caller started: a flag raised by
    # the transaction we waited for starts after our own start and would not count yet
    # (red overwritten by yellow; tests/health/test_race.py).
    now = max(now, utcnow())
    after = derive(live_flags(session, person.id, now), now).status
    change_id = uuid7()
    session.add(StatusChange(id=change_id, person_id=person.id, at=now, event=event,
                             flag_id=flag_id, reason=reason, before=before, after=after,
                             actor_user_id=actor.user_id if actor else None))
    if after != before:
        session.execute(update(Person).where(Person.id == person.id).values(status=after))
        person.status = after
        _tell(session, person.id, after, change_id)
    session.flush()
    return after


def status_message(user_id: uuid.UUID, status: str, change_id: uuid.UUID) -> Message:
    """The notice of one status change (in-app now; the webhook copy: health/relay.py)."""
    return Message(user_id=user_id, kind="health.status", text=STATUS_NOTICES[status],
                   dedupe_key=f"health:{change_id}", link=STATUS_PAGE)


def _tell(session: Session, person_id: uuid.UUID, status: str, change_id: uuid.UUID) -> None:
    user_id = session.scalar(select(User.id).where(User.person_id == person_id))
    if user_id is None:
        return
    InAppNotifier(session).send(status_message(user_id, status, change_id))


def sweep_expired(*, session: Session, now: datetime | None = None,
                  limit: int = 1000) -> int:
    """Recompute the status of people whose flags ran out; returns how many flags.

    current() already ignores a flag past its end; this brings people.status (what
    checkpoints read) in step. Each flag is settled once (settled_at).
    """
    now = now or utcnow()
    rows = session.execute(
        select(StatusFlag.id, StatusFlag.person_id, StatusFlag.reason)
        .where(StatusFlag.cleared_at.is_(None), StatusFlag.settled_at.is_(None),
               StatusFlag.until <= now).order_by(StatusFlag.until).limit(limit)).all()
    by_person: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for flag_id, person_id, reason in rows:
        by_person[person_id].append((flag_id, reason))
    for person_id, flags in by_person.items():
        # Race: the sweep and a rule raising a flag for the same person (see raise_flag).
        person = locked(session, Person, person_id)
        if person is None:
            continue
        session.execute(update(StatusFlag).where(StatusFlag.id.in_([f for f, _ in flags]))
                        .values(settled_at=now))
        for flag_id, reason in flags:
            audit.record(session=session, actor=None, action="health.flag.expire",
                         resource_type="status_flag", resource_id=flag_id,
                         subject_person_id=person_id, detail={"reason": reason})
            _settle(session, person, event="expired", flag_id=flag_id, reason=reason,
                    actor=None, now=now)
    return len(rows)
