"""Binding by a one-time code texted to the phone on file (the second proof).

Request: the account types an ID number and a name. If a person with that ID number
exists, has no account yet, and holds a phone on file under the typed name, a 6-digit
code goes to that phone through the outbox (channel "sms"). The answer is the same in
every case (REQUEST_ANSWER), so nobody learns whether an ID number is registered, has
an account, or has a phone; not even the phone's last digits are shown.

Which phone is "on file":
- a person whose own account proved them before (identity_proofed_at set; their account
  was unlinked since) has their own phone: the person record's phone, with the person's
  own name;
- otherwise the person's name and phone only echo what offices typed (people.claims):
  the newest office claim that carries a phone AND whose name matches the typed name.
  Newest, because the office that saw the person last is likeliest to hold their current
  number; name-matching, so one office's wrong name does not hide another office's
  right one. We never text a phone typed by the person asking: that proves nothing.
  The remaining trust is in the offices (as with claim codes): an office that types
  someone's name with its own phone can take them over, and the audit names it.

Confirm: the code binds exactly as a claim code does (binding.link). A code dies after
CODE_MINUTES, after MAX_TRIES wrong codes, or once used; only a keyed hash is kept.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from passtrace.accounts import binding
from passtrace.accounts.models import SmsBindCode, User
from passtrace.core import outbox
from passtrace.core.clock import utcnow
from passtrace.core.errors import Conflict, InvalidState, ValidationFailed
from passtrace.core.i18n import DEFAULT_LOCALE, LOCALES, N_, translations
from passtrace.core.pii import PiiVault
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.people import claims
from passtrace.people import service as people_service
from passtrace.people.models import OFFICE_SOURCES, Person, PersonClaim

CODE_MINUTES = 10
MAX_TRIES = 5
CODE_DIGITS = 6

REQUEST_ANSWER = N_("If these details match our records, a code is on its way to the phone "
                    "on file. It is valid for 10 minutes.")
SMS_TEXT = N_("[PassTrace] Your code to link your account is %(code)s, valid for 10 minutes. "
              "If you did not ask for it, ignore this message.")
CODE_REFUSED = N_("The code is wrong, has expired or was already used. Ask for a new code.")


class SmsCodeRefused(ValidationFailed):
    """A wrong, expired, used or locked code: one message, so nothing is learnt from it."""

    code = "sms_code_refused"

    def __init__(self) -> None:
        super().__init__(CODE_REFUSED, fields={"sms_code": CODE_REFUSED})


def _hash(vault: PiiVault, row_id: uuid.UUID, code: str) -> str:
    # Keyed (the PII lookup key) and salted with the row id: a stolen table does not let
    # anyone try the million codes offline, nor match two rows holding the same code.
    return vault.lookup_hash(f"sms-bind:{row_id}:{code}")


def _phone_on_file(session: Session, vault: PiiVault, person: Person,
                   typed_name: str) -> tuple[str, PersonClaim | None, str] | None:
    """(phone, matched claim or None for the person's own, name to bind) or None."""
    def norm(s: str) -> str:
        return "".join(s.split()).casefold()
    if person.identity_proofed_at is not None:
        if person.phone_enc is None or norm(vault.read(person, "name_enc")) != norm(typed_name):
            return None
        return vault.read(person, "phone_enc"), None, vault.read(person, "name_enc")
    # Only an office's claim (a compound's or an employer's, made by staff who can check
    # the ID card) names a phone to trust. A visit invite is typed by any resident: with
    # it, whoever knows someone's ID number and name could have their code texted to
    # their own phone and take the record over.
    rows = session.scalars(select(PersonClaim).where(
        PersonClaim.person_id == person.id, PersonClaim.phone_enc.is_not(None),
        PersonClaim.source_kind.in_(OFFICE_SOURCES))
        .order_by(PersonClaim.created_at.desc(), PersonClaim.id.desc())).all()
    for claim in rows:
        if claims.same_name(vault, claim, typed_name):
            assert claim.phone_enc is not None
            return vault.read(claim, "phone_enc"), claim, vault.read(claim, "name_enc")
    return None


def sms_text(code: str, locale: str | None) -> str:
    """The SMS in the account's language (zh_CN unless it chose another)."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    return translations(chosen).gettext(SMS_TEXT) % {"code": code}


def request_code(*, session: Session, rt: Runtime, user: User, id_number: str, name: str,
                 locale: str | None) -> None:
    """Text a code to the phone on file if the details match; say nothing either way.

    A bad ID number or name is named (it is about what was typed, not what is stored).
    """
    clean_id, clean_name, _ = people_service.parse_identity(id_number, name, None)
    if user.person_id is not None:
        raise InvalidState("Your account is already linked to an ID number.")
    person = people_service.find_by_id_number(session=session, vault=rt.vault,
                                              id_number=clean_id)
    if person is None or binding.has_account(session, person.id):
        return
    found = _phone_on_file(session, rt.vault, person, clean_name)
    if found is None:
        return
    phone, claim, _ = found
    # One live code per (account, person): a new request replaces the old one (and its
    # wrong-try count: the per-ID-number attempt limit bounds how often that happens).
    # Race: two requests at once both delete and insert; the unique (user_id, person_id)
    # constraint fails one of them, which the client sees as a retry, never two codes.
    session.execute(delete(SmsBindCode).where(SmsBindCode.user_id == user.id,
                                              SmsBindCode.person_id == person.id))
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    row_id = uuid.uuid4()
    session.add(SmsBindCode(
        id=row_id, user_id=user.id, person_id=person.id, code_hash=_hash(rt.vault, row_id, code),
        source_kind=claim.source_kind if claim else None,
        source_id=claim.source_id if claim else None,
        expires_at=utcnow() + timedelta(minutes=CODE_MINUTES)))
    session.flush()
    outbox.enqueue(session=session, channel="sms", dedupe_key=f"sms-bind:{row_id}",
                   payload={"phone": phone, "text": sms_text(code, locale)})


def confirm_code(*, session: Session, rt: Runtime, user: User, code: str,
                 actor: Principal | None) -> Person | None:
    """Bind with a texted code; None when the code is refused (its wrong try is counted
    in this transaction: the caller commits it, then reports SmsCodeRefused)."""
    if user.person_id is not None:
        raise InvalidState("Your account is already linked to an ID number.")
    typed = "".join(c for c in code if not c.isspace())
    now = utcnow()
    row = session.scalar(select(SmsBindCode).where(
        SmsBindCode.user_id == user.id, SmsBindCode.used_at.is_(None),
        SmsBindCode.failed_tries < MAX_TRIES, SmsBindCode.expires_at > now)
        .order_by(SmsBindCode.created_at.desc()).limit(1))
    if row is None:
        return None
    if not hmac.compare_digest(row.code_hash, _hash(rt.vault, row.id, typed)):
        # Race: parallel wrong guesses must each count, so the increment is one UPDATE
        # in the database (no read in Python), and stops at MAX_TRIES.
        session.execute(update(SmsBindCode).where(
            SmsBindCode.id == row.id, SmsBindCode.failed_tries < MAX_TRIES)
            .values(failed_tries=SmsBindCode.failed_tries + 1)
            .execution_options(synchronize_session=False))
        return None
    # Race: two requests with the right code (a double-clicked button, or a second
    # device) both read the row unused. The UPDATE matches only while used_at is empty
    # and the code is alive, which the database checks and sets atomically (PostgreSQL
    # re-checks the row after the other's row lock; SQLite has one writer), so exactly
    # one request binds.
    done = session.execute(update(SmsBindCode).where(
        SmsBindCode.id == row.id, SmsBindCode.used_at.is_(None),
        SmsBindCode.failed_tries < MAX_TRIES, SmsBindCode.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if not done.rowcount:  # type: ignore[attr-defined]
        return None
    person = session.get(Person, row.person_id)
    if person is None:
        return None
    name, phone = _identity_for(session, rt.vault, person, row)
    if binding.has_account(session, person.id):
        raise Conflict(binding.ALREADY_LINKED)
    binding.link(session=session, rt=rt, user=user, person=person, name=name, phone=phone,
                 actor=actor,
                 detail={"method": "sms", "source": row.source_kind or "own",
                         "source_id": str(row.source_id) if row.source_id else ""})
    return person


def _identity_for(session: Session, vault: PiiVault, person: Person,
                  row: SmsBindCode) -> tuple[str, str | None]:
    """The name and phone the code proved: the matched claim's, or the person's own."""
    if row.source_kind is not None and row.source_id is not None:
        claim = claims.get(session=session, person_id=person.id, source_kind=row.source_kind,
                           source_id=row.source_id)
        if claim is not None and claim.phone_enc is not None:
            return vault.read(claim, "name_enc"), vault.read(claim, "phone_enc")
    return (vault.read(person, "name_enc"),
            vault.read(person, "phone_enc") if person.phone_enc else None)
