"""Binding an account to a person, only with proof; and undoing a wrong binding.

Sign-up never binds by ID number alone: whoever types someone's ID number would get
their name, phone, flat and passes. Proof is a claim code that the office which
registered the person (their compound's manager, their employer's HR) handed them in
person, with the name that office holds; or a one-time code texted to the phone on
file (accounts.sms_binding). Without proof the account is created unbound, and the
answer is the same whether or not the ID number is known, so sign-up tells nobody who
is registered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.accounts import claim_codes
from passtrace.accounts.models import User
from passtrace.audit import service as audit_service
from passtrace.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.notices.service import InAppNotifier, Message
from passtrace.people import claims
from passtrace.people import service as people_service
from passtrace.people.models import Person

NO_MATCH = N_("The ID number, name and claim code do not match, or the code has expired "
              "or was already used.")


class BindingRefused(ValidationFailed):
    """Proof did not hold; one message for every reason, so nothing is learnt from it."""

    code = "binding_refused"

    def __init__(self) -> None:
        super().__init__(NO_MATCH, fields={"claim_code": NO_MATCH})


# --- issuing claim codes (in person, by the office that registered the person) -----------
# The offices are domains above accounts (communities, enterprises): they check that the
# person is theirs and call issue_claim_code. Where a person belongs, and what else an
# unbinding must undo, they tell through the hooks below (registered in passtrace.wiring).

PersonAreas = Callable[[Session, uuid.UUID], Iterable[str]]
UnbindHook = Callable[[Session, uuid.UUID], None]
_person_areas: dict[str, PersonAreas] = {}
_unbind_hooks: dict[str, UnbindHook] = {}


def register_person_areas(name: str, source: PersonAreas) -> None:
    """A domain names the area codes a person belongs to through it (for unbinding)."""
    _person_areas[name] = source


def register_unbind_hook(name: str, hook: UnbindHook) -> None:
    """A domain undoes what a wrong binding let the account do there (user id given)."""
    _unbind_hooks[name] = hook


def issue_claim_code(session: Session, rt: Runtime, actor: Principal, person_id: uuid.UUID,
                     source_kind: str, source_id: uuid.UUID) -> tuple[str, datetime]:
    """Issue a claim code for a person the calling office registered (its own checks
    done: communities.compounds.claim_codes, enterprises.claim_codes)."""
    if claims.get(session=session, person_id=person_id, source_kind=source_kind,
                  source_id=source_id) is None:
        # Records from before claims were kept: the code needs a name to check against.
        raise InvalidState("Your office holds no name for this person; remove and add them "
                           "again with the name on their ID card.")
    if session.scalar(select(User.id).where(User.person_id == person_id)) is not None:
        raise InvalidState("This person's ID number is already linked to an account. If "
                           "that account is not theirs, ask an official to unlink it first.")
    return claim_codes.issue(session=session, vault=rt.vault, actor=actor, person_id=person_id,
                             source_kind=source_kind, source_id=source_id)


# --- binding ---------------------------------------------------------------------------

ALREADY_LINKED = N_("This ID number is already linked to another account. If that is not "
                    "yours, ask an official over your area to unlink it.")


def link(*, session: Session, rt: Runtime, user: User, person: Person, name: str,
         phone: str | None, actor: Principal | None, detail: dict[str, str]) -> None:
    """The common end of every proofed binding (claim code, SMS code): link the account,
    let it set the person's own name and phone, and audit `account.bind` with `detail`
    (its "method" says which proof)."""
    try:
        with session.begin_nested():
            user.person_id = person.id
            session.flush()
    except IntegrityError:
        # Race: another account bound this person (with another proof) since we looked;
        # the unique users.person_id constraint let only one of them in.
        raise Conflict(ALREADY_LINKED) from None
    people_service.set_own_identity(session=session, vault=rt.vault, person=person,
                                    name=name, phone=phone)
    user.display_name = person.name_masked
    session.flush()
    audit_service.record(session=session, actor=actor, action="account.bind",
                         resource_type="user", resource_id=user.id, subject_person_id=person.id,
                         detail=detail)


def has_account(session: Session, person_id: uuid.UUID) -> bool:
    """Whether some account is already linked to this person."""
    return session.scalar(select(User.id).where(User.person_id == person_id)) is not None


def bind_with_claim_code(*, session: Session, rt: Runtime, user: User, id_number: str,
                         name: str, phone: str | None, code: str,
                         actor: Principal | None = None) -> Person:
    """Bind the account to the person the code was issued for, if the name matches."""
    clean_id, clean_name, clean_phone = people_service.parse_identity(id_number, name, phone)
    if user.person_id is not None:
        raise InvalidState("Your account is already linked to an ID number.")
    person = people_service.find_by_id_number(session=session, vault=rt.vault,
                                              id_number=clean_id)
    row = (claim_codes.find_live(session=session, vault=rt.vault, code=code,
                                 person_id=person.id) if person else None)
    claim = (claims.get(session=session, person_id=row.person_id, source_kind=row.source_kind,
                        source_id=row.source_id) if row else None)
    if person is None or row is None or claim is None or not claims.same_name(
            rt.vault, claim, clean_name):
        raise BindingRefused()
    if has_account(session, person.id):
        # Only someone holding this person's code and name gets this far.
        raise Conflict(ALREADY_LINKED)
    if not claim_codes.use(session=session, row=row, user_id=user.id):
        raise BindingRefused()
    own_phone = clean_phone or (rt.vault.read(claim, "phone_enc") if claim.phone_enc else None)
    # The name as the office wrote it from the ID card (the typed one matched it, give or
    # take spaces and case).
    link(session=session, rt=rt, user=user, person=person,
         name=rt.vault.read(claim, "name_enc"), phone=own_phone, actor=actor,
         detail={"method": "claim_code", "source": row.source_kind,
                 "source_id": str(row.source_id)})
    return person


# --- recovery --------------------------------------------------------------------------

def person_areas(*, session: Session, person: Person) -> set[str]:
    """Where a person belongs: their ID number's region, their compounds, their employers."""
    areas = {person.id_masked[:6]}
    for source in _person_areas.values():
        areas.update(source(session, person.id))
    return areas


def may_unbind(*, session: Session, actor: Principal, person: Person) -> bool:
    """An official whose area covers any place the person belongs to."""
    return any(actor.covers_area("account.unbind", a)
               for a in person_areas(session=session, person=person))


def unbind(*, session: Session, actor: Principal, person_id: uuid.UUID, reason: str) -> User:
    """Unlink a wrongly bound account from a person; audited, and the account is told."""
    reason = " ".join(reason.split())
    if len(reason) < 4:
        raise ValidationFailed("Give a reason (at least 4 characters).",
                               fields={"reason": N_("Give a reason (at least 4 characters).")})
    person = session.get(Person, person_id)
    if person is None or not may_unbind(session=session, actor=actor, person=person):
        raise NotFound("No such person.")
    # Lock the account row: a concurrent bind or unbind of the same account waits.
    user = session.scalar(select(User).where(User.person_id == person_id).with_for_update())
    if user is None:
        raise NotFound("No account is linked to this person.")
    user.person_id = None
    user.display_name = user.username
    # The name and phone that account set are no longer proofed; the right person's
    # proofed binding sets them again.
    person.identity_proofed_at = None
    # What the wrong binding let the account do elsewhere (its employer links) goes too.
    for hook in _unbind_hooks.values():
        hook(session, user.id)
    session.flush()
    audit_service.record(session=session, actor=actor, action="account.unbind",
                         resource_type="user", resource_id=user.id, subject_person_id=person_id,
                         reason=reason)
    InAppNotifier(session).send(Message(
        user_id=user.id, kind="account.unbind",
        text=N_("An official unlinked your account from the ID number %(id)s: %(reason)s. "
                "If it is yours, ask your compound office or HR for a claim code."),
        params={"id": person.id_masked, "reason": reason},
        dedupe_key=f"account.unbind:{user.id}:{person_id}:{uuid.uuid4().hex}",
        link="/me/bind"))
    return user
