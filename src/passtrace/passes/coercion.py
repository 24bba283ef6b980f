"""Coercive actions: the reasons an official may give, telling the person, and appeals.

A coercive revocation (by an official or a compound, not the holder withdrawing) needs a
reason from REVOKE_REASONS plus words of its own; the holder gets a notice (in-app, and
the notification gateway through the outbox when one is set) and may appeal. Other
coercive actions (a compound's stricter outing rules) bring their own reason list and
share the rest: the reason check, the notice, and the appeal's filing and deciding
(`file_appeal`, `check_decision`, `settle`), each domain with its own appeal row, its
own lookup and lock, and its own audit action.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.errors import Conflict, ValidationFailed
from passtrace.core.i18n import N_, lazy_gettext
from passtrace.core.security import Principal
from passtrace.notices.service import InAppNotifier, Message, Notifier, standard_notifier

MIN_TEXT = 4  # a few words; "abcd"-style placeholders are refused with the code missing
APPEAL_MIN_TEXT = 6  # a sentence, even a short Chinese one, says why the decision was wrong
Outcome = Literal["upheld", "reversed"]

# The reasons an official or a compound may give for revoking a pass.
REVOKE_REASONS = {
    "moved_out": lazy_gettext("Moved out of the compound"),
    "false_information": lazy_gettext("False information in the application"),
    "misuse": lazy_gettext("The pass was misused (lent, copied, used elsewhere)"),
    "risk_change": lazy_gettext("The area's risk level changed"),
    "health_status": lazy_gettext("The holder's health status requires it"),
    "visit_cancelled": lazy_gettext("The visit was called off"),
    "other": lazy_gettext("Other (explained in the text)"),
}


def check_reason(reason_code: str | None, reason: str,
                 reasons: Mapping[str, object] = REVOKE_REASONS) -> tuple[str, str]:
    """Return (code, text) stripped, or refuse with 422 naming the missing field.

    `reasons` is the list the code must come from (another coercive action's own list).
    """
    fields: dict[str, str] = {}
    if reason_code not in reasons:
        fields["reason_code"] = N_("Choose a reason from the list.")
    text = (reason or "").strip()
    if len(text) < MIN_TEXT:
        fields["reason"] = N_("Explain the decision in at least %(min)s characters.")
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields, min=MIN_TEXT)
    assert reason_code is not None
    return reason_code, text


def reason_label(code: str | None) -> str:
    """The reason's label in the current language ("" for none)."""
    return str(REVOKE_REASONS[code]) if code in REVOKE_REASONS else ""


def notifier(session: Session, settings: Settings | None) -> Notifier:
    """In-app, plus the gateway through the outbox when the settings name one."""
    return standard_notifier(session, settings) if settings else InAppNotifier(session)


def tell_person(*, session: Session, settings: Settings | None, person_id: uuid.UUID,
                kind: str, text: str, key: str, link: str,
                params: dict[str, object] | None = None) -> int:
    """Send a notice to the account bound to the person (none bound: 0 sent)."""
    user_id = session.scalar(select(User.id).where(User.person_id == person_id))
    if user_id is None:
        return 0
    notifier(session, settings).send(Message(user_id=user_id, kind=kind, text=text,
                                             dedupe_key=f"{key}:{user_id}", link=link,
                                             params=dict(params or {})))
    return 1


class AppealRow(Protocol):
    """What every appeal row has (passes.models.PassAppeal, compounds' RuleAppeal)."""

    person_id: uuid.UUID
    status: str
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_reason: str | None


A = TypeVar("A", bound=AppealRow)


@dataclass(frozen=True)
class Appealed:
    """What an appeal is about, as its audit entries name it: filing is `action`, a
    decision `action.upheld` or `action.reversed` (each with a label in audit.labels)."""

    action: str
    resource_type: str
    resource_id: uuid.UUID


def file_appeal(*, session: Session, actor: Principal, text: str,
                open_appeal: Callable[[str], tuple[A, Appealed]]) -> A:
    """File an appeal once: check the text, let the domain find what is appealed and
    build its row (`open_appeal(text)`, which refuses what may not be appealed), insert
    it and audit it in the person's name."""
    text = (text or "").strip()
    if len(text) < APPEAL_MIN_TEXT:
        msg = N_("Explain your appeal in at least %(min)s characters.")
        raise ValidationFailed(msg, fields={"text": msg}, min=APPEAL_MIN_TEXT)
    appeal, about = open_appeal(text)
    # Race: the person submitting twice (two tabs, a retry); the domain's unique key keeps
    # one appeal and the second is told it exists, rather than a SELECT-then-INSERT window.
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except IntegrityError:
        raise Conflict("You have already appealed this decision.") from None
    audit_service.record(session=session, actor=actor, action=about.action,
                         resource_type=about.resource_type, resource_id=about.resource_id,
                         subject_person_id=appeal.person_id, reason=text)
    return appeal


def check_decision(outcome: str, reason: str) -> str:
    """The decision's reason, stripped; 422 for a short reason or an unknown outcome."""
    reason = (reason or "").strip()
    if len(reason) < MIN_TEXT:
        msg = N_("Explain the decision in at least %(min)s characters.")
        raise ValidationFailed(msg, fields={"reason": msg}, min=MIN_TEXT)
    if outcome not in ("upheld", "reversed"):
        msg = N_("Choose whether to uphold or reverse the decision.")
        raise ValidationFailed(msg, fields={"outcome": msg})
    return reason


def settle(*, session: Session, actor: Principal, appeal: AppealRow, outcome: Outcome,
           reason: str, about: Appealed, detail: dict[str, Any] | None = None) -> None:
    """Record the decision on an appeal the caller has locked and found pending (after
    the domain carried it out), and audit it in the person's name."""
    appeal.status, appeal.decided_by, appeal.decided_at = outcome, actor.user_id, utcnow()
    appeal.decision_reason = reason
    session.flush()
    audit_service.record(session=session, actor=actor, action=f"{about.action}.{outcome}",
                         resource_type=about.resource_type, resource_id=about.resource_id,
                         subject_person_id=appeal.person_id, reason=reason, detail=detail)
