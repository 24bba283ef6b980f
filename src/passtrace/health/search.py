"""Officials find a person by ID number or mobile number, within their own areas.

The ID number is normalised once (NFKC, separators, upper-case X) and validated, then
looked up by its keyed hash; the phone likewise by its own keyed hash
(people.service.phone_hash; a person stored before that hash existed is found among
the few whose masked phone matches, decrypted and compared). Neither is stored or
logged: the search is a POST (no query string in server logs) and the audit entry names
the person, not the query.
A person outside the official's areas is "not found", the same answer as nobody.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.pii import mask_phone
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number, validate_phone
from passtrace.health import authz
from passtrace.people.models import Person
from passtrace.people.service import phone_hash

MAX_QUERY_CHARS = 40
MAX_PHONE_CANDIDATES = 200  # people sharing a masked phone; a real number has a handful
ENTER_SOMETHING = N_("Enter an ID number or a mobile number.")


def _is_phone(value: str) -> bool:
    """A "+86" number or 11 digits; anything else is read (and explained) as an ID number."""
    return value.startswith("+86") or (len(value) == 11 and value.isascii() and value.isdigit())


def _by_id(session: Session, rt: Runtime, value: str) -> list[Person]:
    person = session.scalar(select(Person).where(
        Person.id_hash == rt.vault.lookup_hash(validate_id_number(value))))
    return [person] if person is not None else []


def _by_phone(session: Session, rt: Runtime, value: str) -> list[Person]:
    phone = validate_phone(value)
    if not phone.isascii():
        raise InvalidValue("A mobile number has 11 digits and starts with 13 to 19.")
    found = list(session.scalars(
        select(Person).where(Person.phone_hash == phone_hash(rt.vault, phone))
        .order_by(Person.id).limit(MAX_PHONE_CANDIDATES)))
    # People stored before the phone's hash existed: among those few sharing the masked
    # phone, each decrypted and compared.
    legacy = session.scalars(select(Person).where(
        Person.phone_hash.is_(None), Person.phone_masked == mask_phone(phone))
        .order_by(Person.id).limit(MAX_PHONE_CANDIDATES))
    return found + [p for p in legacy
                    if p.phone_enc and rt.vault.read(p, "phone_enc") == phone]


def find(*, session: Session, rt: Runtime, actor: Principal, query: str,
         via: str) -> list[Person]:
    """The people the query names that the official may see; each hit is audited."""
    authz.require(actor, "health.view")
    text = unicodedata.normalize("NFKC", query).strip().replace(" ", "").replace("-", "")
    if not text or len(text) > MAX_QUERY_CHARS:
        raise ValidationFailed(ENTER_SOMETHING, fields={"q": ENTER_SOMETHING})
    try:
        found = _by_phone(session, rt, text) if _is_phone(text) else _by_id(session, rt, text)
    except InvalidValue as exc:
        raise ValidationFailed(exc.message, fields={"q": exc.message}) from None
    hits = [p for p in found if authz.can_view(session, actor, p.id)]
    # Each person shown to the official reaches that person's access log.
    audit.record_reads(session=session, actor=actor, action="health.search",
                       resource_type="person", people=[(p.id, p.id) for p in hits],
                       detail={"via": via})
    return hits
