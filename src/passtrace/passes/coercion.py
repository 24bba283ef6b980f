"""Coercive actions on passes: the reasons an official may give, and telling the person.

A coercive revocation (by an official or a compound, not the holder withdrawing) needs a
reason from REVOKE_REASONS plus words of its own; the holder gets a notice (in-app, and
the notification gateway through the outbox when one is set) and may appeal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.core.config import Settings
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_, lazy_gettext
from passtrace.notices.service import InAppNotifier, Message, Notifier, standard_notifier

MIN_TEXT = 4  # a few words; "abcd"-style placeholders are refused with the code missing

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
