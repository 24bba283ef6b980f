"""People use cases that span domains: who may reveal whose data.

Other domains grant the right to reveal a person's data (an official over one of
their passes' areas, their employer's administrators). people sits below those
domains, so they register a grant here (passtrace.wiring) instead of people
importing them. With no grant registered only the person and global holders may
reveal: a process that forgot to wire refuses, never over-reveals.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.people import reveal_limit
from passtrace.people import service as people_service
from passtrace.people.models import PersonClaim
from passtrace.people.service import RevealField


class RevealGrant(Protocol):
    """Tells what a domain lets the actor reveal of this person's data."""

    def __call__(self, *, session: Session, actor: Principal, person_id: uuid.UUID
                 ) -> bool | PersonClaim:
        """True: the registry's values; a claim: only what that source supplied (an
        employer's HR reads back its own staff list); False: nothing."""
        ...


class RevealAlert(Protocol):
    """Tells the supervisors over the actor's area that the actor reached the alert count."""

    def __call__(self, *, session: Session, rt: Runtime, actor: Principal, count: int) -> None:
        """Record the alert in the caller's transaction (notices, outbox, audit)."""
        ...


_grants: dict[str, RevealGrant] = {}
_alerts: dict[str, RevealAlert] = {}


def register_reveal_grant(name: str, grant: RevealGrant) -> None:
    """Register (or replace: wiring twice is harmless) the grant called `name`."""
    _grants[name] = grant


def register_reveal_alert(name: str, alert: RevealAlert) -> None:
    """Register (or replace) the alert called `name` (oversight tells supervisors)."""
    _alerts[name] = alert


def may_reveal(*, session: Session, actor: Principal, person_id: uuid.UUID
               ) -> bool | PersonClaim:
    """Who may reveal what: True for the registry's values, a claim for only that claim.

    The person and global holders: the registry. Otherwise each registered grant is
    asked (officials over one of the person's passes or employers: the registry; an
    employer's HR: only what HR supplied, for current employees); the widest wins.
    """
    if actor.person_id == person_id or actor.area_scopes("person.reveal") is None:
        return True
    if not actor.has("person.reveal"):
        return False
    claim: PersonClaim | None = None
    for grant in _grants.values():
        found = grant(session=session, actor=actor, person_id=person_id)
        if found is True:
            return True
        if isinstance(found, PersonClaim):
            claim = claim or found
    return claim or False


def reveal(*, session: Session, rt: Runtime, actor: Principal, person_id: uuid.UUID,
           field: RevealField, reason: str, purpose: str | None) -> str:
    """Reveal one field of a person's data, if allowed; audited with the purpose and reason.

    Another person's data counts against the reader's hourly limit (429 past it); the
    reveal that reaches the alert count tells the supervisors. One's own data is free.
    """
    reason = reveal_limit.clean_reason(settings=rt.settings, purpose=purpose, reason=reason)
    allowed = may_reveal(session=session, actor=actor, person_id=person_id)
    value = people_service.reveal(session=session, vault=rt.vault, actor=actor,
                                  person_id=person_id, field=field, reason=reason,
                                  allowed=allowed is not False, purpose=purpose,
                                  claim=allowed if isinstance(allowed, PersonClaim) else None)
    if actor.person_id != person_id:
        count = reveal_limit.check(session=session, settings=rt.settings, user_id=actor.user_id)
        if count == rt.settings.reveal_alert_count:
            for alert in _alerts.values():
                alert(session=session, rt=rt, actor=actor, count=count)
    return value
