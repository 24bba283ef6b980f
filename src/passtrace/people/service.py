"""People: register, find by ID number, reveal protected fields (audited)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.pii import PiiVault, mask_id_number, mask_name, mask_phone
from passtrace.core.security import Principal
from passtrace.core.validators import (
    InvalidValue,
    validate_id_number,
    validate_phone,
)
from passtrace.people import claims
from passtrace.people.models import Person, PersonClaim

RevealField = Literal["id_number", "name", "phone"]


def clean_name(raw: str) -> str:
    """Validate a person's name: 1-40 characters, no control characters."""
    name = " ".join(raw.split())
    if not name or len(name) > 40 or any(ord(c) < 32 for c in name):
        raise ValidationFailed("Please enter the name as on the ID card (1-40 characters).",
                               fields={"name": "Please enter the name as on the ID card "
                                                "(1-40 characters)."})
    return name


def parse_identity(id_number: str, name: str, phone: str | None) -> tuple[str, str, str | None]:
    """Validate an ID number, name and phone together, naming the bad field."""
    try:
        clean_id = validate_id_number(id_number)
    except InvalidValue as exc:
        raise ValidationFailed(exc.message, fields={"id_number": exc.message}) from None
    clean_phone = None
    if phone:
        try:
            clean_phone = validate_phone(phone)
        except InvalidValue as exc:
            raise ValidationFailed(exc.message, fields={"phone": exc.message}) from None
    return clean_id, clean_name(name), clean_phone


def find_by_id_number(*, session: Session, vault: PiiVault, id_number: str) -> Person | None:
    """Find a person by a (validated) ID number through its keyed hash."""
    digest = vault.lookup_hash(id_number)
    return session.scalar(select(Person).where(Person.id_hash == digest))


def get(*, session: Session, person_id: uuid.UUID) -> Person | None:
    """Get a person by id."""
    return session.get(Person, person_id)


def protected_columns(vault: PiiVault, id_number: str, name: str, phone: str | None,
                      id_hash: str | None = None) -> dict[str, Any]:
    """A person's stored columns from validated values: keyed hash, ciphertext, masks.

    The one place that decides how a person's data is kept; bulk imports insert these
    as rows, register() builds the ORM object from them.
    """
    row = {"id_hash": id_hash or vault.lookup_hash(id_number)}
    return {
        **row,
        "id_enc": vault.encrypt(id_number, ad=Person.pii_ad_for("id_enc", row)),
        "id_masked": mask_id_number(id_number),
        "name_enc": vault.encrypt(name, ad=Person.pii_ad_for("name_enc", row)),
        "name_masked": mask_name(name),
        "phone_enc": vault.encrypt(phone, ad=Person.pii_ad_for("phone_enc", row))
        if phone else None,
        "phone_masked": mask_phone(phone) if phone else None,
        "phone_hash": phone_hash(vault, phone) if phone else None,
    }


def phone_hash(vault: PiiVault, phone: str) -> str:
    """The keyed hash an official's search finds a (validated) mobile number by, as the
    ID number's; prefixed, so a phone's hash can never equal an ID number's."""
    return vault.lookup_hash(f"phone:{phone}")


def register(
    *,
    session: Session,
    vault: PiiVault,
    actor: Principal | None,
    id_number: str,
    name: str,
    phone: str | None = None,
    source: tuple[str, uuid.UUID] | None = None,
) -> Person:
    """Register a person, or return the one with this ID number (details unchanged).

    `source` (kind, id) names the office typing these details: they are kept as that
    office's claim (people.claims). A new person's own name and phone then only echo
    the first claim, unproofed, until the person's proofed account sets them.
    """
    clean_id, clean_name_, clean_phone = parse_identity(id_number, name, phone)
    person = find_by_id_number(session=session, vault=vault, id_number=clean_id)
    if person is None:
        person = Person(**protected_columns(vault, clean_id, clean_name_, clean_phone))
        session.add(person)
        session.flush()
        audit_service.record(session=session, actor=actor, action="person.register",
                             resource_type="person", resource_id=person.id,
                             subject_person_id=person.id)
    if source is not None:
        claims.record(session=session, vault=vault, person_id=person.id,
                      source_kind=source[0], source_id=source[1], name=clean_name_,
                      phone=clean_phone)
    return person


def register_by_id_number(*, session: Session, vault: PiiVault, actor: Principal | None,
                          id_number: str, field: str = "id_number") -> Person:
    """Find the person with this ID number, or keep a protected record of it with no name.

    For offices that know only the number (a case typed by a tracing team, an imported
    report): the record holds the keyed hash and ciphertext and defines no identity;
    name and phone come later from the person's proofed account or an office's claim.
    """
    try:
        clean_id = validate_id_number(id_number)
    except InvalidValue as exc:
        raise ValidationFailed(exc.message, fields={field: exc.message}) from None
    person = find_by_id_number(session=session, vault=vault, id_number=clean_id)
    if person is None:
        person = Person(**protected_columns(vault, clean_id, "", None))
        session.add(person)
        session.flush()
        audit_service.record(session=session, actor=actor, action="person.register",
                             resource_type="person", resource_id=person.id,
                             subject_person_id=person.id)
    return person


def set_own_identity(*, session: Session, vault: PiiVault, person: Person, name: str,
                     phone: str | None) -> None:
    """The person's own name and phone, set by their proofed account (validated values).

    Only this (after proof) writes a person's identity fields once they are proofed;
    a phone left blank keeps the one on file.
    """
    person.name_enc = vault.encrypt(name, ad=person.pii_ad("name_enc"))
    person.name_masked = mask_name(name)
    if phone:
        person.phone_enc = vault.encrypt(phone, ad=person.pii_ad("phone_enc"))
        person.phone_masked = mask_phone(phone)
        person.phone_hash = phone_hash(vault, phone)
    person.identity_proofed_at = utcnow()
    session.flush()


def reveal(
    *,
    session: Session,
    vault: PiiVault,
    actor: Principal,
    person_id: uuid.UUID,
    field: RevealField,
    reason: str,
    allowed: bool,
    claim: PersonClaim | None = None,
    purpose: str | None = None,
) -> str:
    """Decrypt one field for an authorized reader; always audited, reason required.

    With `claim`, the reader is a third party (an employer) and reads back only what
    it supplied: the ID number it typed, and its own claimed name and phone.
    """
    reason = reason.strip()
    if len(reason) < 4:
        raise ValidationFailed("Give a reason (at least 4 characters) for viewing this data.",
                               fields={"reason": "Give a reason (at least 4 characters) "
                                                 "for viewing this data."})
    person = get(session=session, person_id=person_id)
    if person is None:
        raise NotFound("No such person.")
    if not allowed:
        raise Forbidden("You may not view this person's data.")
    source: Person | PersonClaim = claim if claim is not None else person
    owner, column = {"id_number": (person, "id_enc"), "name": (source, "name_enc"),
                     "phone": (source, "phone_enc")}[field]
    blob = getattr(owner, column)
    if blob is None:
        raise NotFound("This person has no phone number on record.")
    # Decrypted before the audit entry: a value copied in from another row (NotThisRecord,
    # 409) reveals nothing, so nothing is recorded as read.
    value = vault.decrypt(blob, ad=owner.pii_ad(column))
    detail: dict[str, Any] = {"field": field}
    if purpose:
        detail["purpose"] = purpose
    if claim is not None:
        detail["source"] = claim.source_kind
    audit_service.record(session=session, actor=actor, action="person.reveal",
                         resource_type="person", resource_id=person.id,
                         subject_person_id=person.id, reason=reason, detail=detail)
    return value
