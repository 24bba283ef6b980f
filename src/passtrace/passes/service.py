"""Temporary passes: apply, approve, reject, revoke, sign, list."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.audit import service as audit_service
from passtrace.codec import PassClaims, SigningKey, encode_pass, sign_revocation_list
from passtrace.core.areacodes import common_prefix
from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.db import serialize
from passtrace.core.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.pagination import paginate_query
from passtrace.core.pii import PiiVault
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_plate
from passtrace.passes import authz, coercion, keyring
from passtrace.passes.models import Pass, Revocation
from passtrace.passes.schemas import PassCreate

SITE_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def effective_status(p: Pass, now: datetime | None = None) -> str:
    """Return the status a person sees: an approved pass past its window is expired."""
    if p.status == "approved" and p.valid_until <= (now or utcnow()):
        return "expired"
    return p.status


def get(*, session: Session, pass_id: uuid.UUID, for_update: bool = False) -> Pass | None:
    """Get a pass by id, optionally locking its row (PostgreSQL) for a decision."""
    return session.get(Pass, pass_id, with_for_update=for_update)


def get_visible(*, session: Session, actor: Principal, pass_id: uuid.UUID,
                for_update: bool = False) -> Pass:
    """Get a pass the actor may see; others get 'not found' so ids leak nothing.

    for_update locks the row (PostgreSQL) so two officials deciding the same pass
    at once are serialized: the second sees the first's decision and gets a 409.
    """
    p = get(session=session, pass_id=pass_id, for_update=for_update)
    if p is None or not authz.can_view(actor, p):
        raise NotFound("No such pass.")
    return p


def read(*, session: Session, actor: Principal, pass_id: uuid.UUID, via: str = "detail") -> Pass:
    """Get a pass for display; anyone but its holder reading it is audited."""
    p = get_visible(session=session, actor=actor, pass_id=pass_id)
    record_reads(session=session, actor=actor, passes=[p], via=via)
    return p


def record_reads(*, session: Session, actor: Principal, passes: list[Pass], via: str) -> None:
    """Audit that the actor saw these passes' personal data (their holders can see it)."""
    # One statement for a whole page of a list: each holder still gets their own entry.
    audit_service.record_many(session=session, actor=actor, entries=[
        {"action": "pass.view", "resource_type": "pass", "resource_id": p.id,
         "subject_person_id": p.person_id, "detail": {"via": via}}
        for p in passes if not authz.is_holder(actor, p)])


def _validate(session: Session, rt: Runtime, data: PassCreate) -> tuple[list[str], list[str],
                                                                          str | None]:
    fields: dict[str, str] = {}
    now = utcnow()
    if data.valid_from.tzinfo is None or data.valid_until.tzinfo is None:
        raise ValidationFailed("Times need a time zone (e.g. +08:00).")
    if data.valid_until <= data.valid_from:
        fields["valid_until"] = N_("The end of the validity window must be after its start.")
    elif data.valid_until - data.valid_from > timedelta(days=rt.settings.pass_max_days):
        fields["valid_until"] = N_("A pass may be valid for at most %(days)s days.")
    if data.valid_until <= now:
        fields["valid_until"] = N_("The validity window is already over.")
    if data.valid_from < now - timedelta(days=1):
        fields["valid_from"] = N_("The validity window cannot start more than a day ago.")
    if not data.areas:
        fields["areas"] = N_("Choose at least one area the pass is for.")
    bad_sites = [s for s in data.sites if not s or len(s) > 32 or set(s) - SITE_CODE_CHARS]
    if bad_sites:
        fields["sites"] = N_("Site codes are letters, digits, - or _ (at most 32).")
    plate = None
    if data.plate:
        try:
            plate = validate_plate(data.plate)
        except InvalidValue as exc:
            fields["plate"] = exc.message
    if fields:
        first = next(iter(fields.values()))
        raise ValidationFailed(first, fields=fields, days=rt.settings.pass_max_days)
    areas = area_service.validate_codes(session=session, codes=data.areas)
    sites = list(dict.fromkeys(data.sites))
    if sites:
        from passtrace.sites.models import Site

        known = set(session.scalars(select(Site.code).where(Site.code.in_(sites))))
        unknown = [s for s in sites if s not in known]
        if unknown:
            raise ValidationFailed("Unknown site %(site)s.", site=", ".join(unknown),
                                   fields={"sites": "Unknown site %(site)s."})
    return areas, sites, plate


def apply(*, session: Session, rt: Runtime, actor: Principal, data: PassCreate) -> Pass:
    """File a pass application for the actor's own person record."""
    if not actor.has("pass.apply"):
        raise Forbidden("Your account may not apply for passes.")
    if actor.person_id is None:
        raise InvalidState("Link your ID number to your account before applying for a pass.")
    if data.id is not None:
        # A retried submission (double tap, flaky network) returns the first one.
        existing = session.get(Pass, data.id)
        if existing is not None:
            if existing.applicant_user_id != actor.user_id:
                raise Conflict("This application id is already used.")
            return existing
    areas, sites, plate = _validate(session, rt, data)
    p = Pass(id=data.id or uuid7(), person_id=actor.person_id, applicant_user_id=actor.user_id,
             purpose=data.purpose,
             reason=data.reason, valid_from=data.valid_from, valid_until=data.valid_until,
             areas=areas, sites=sites, plate=plate, companions=data.companions,
             area_prefix=common_prefix(areas), status="pending")
    session.add(p)
    session.flush()
    audit_service.record(session=session, actor=actor, action="pass.apply",
                         resource_type="pass", resource_id=p.id,
                         subject_person_id=p.person_id,
                         detail={"purpose": p.purpose, "areas": areas})
    return p


def _pending_for_review(session: Session, actor: Principal, pass_id: uuid.UUID) -> Pass:
    p = get_visible(session=session, actor=actor, pass_id=pass_id, for_update=True)
    if not authz.can_review(actor, p):
        raise Forbidden("Only an official responsible for every area of the pass may decide it.")
    if p.status != "pending":
        raise InvalidState("This pass was already decided (%(status)s).", status=p.status)
    return p


def sign(*, session: Session, rt: Runtime, p: Pass, key: SigningKey | None = None) -> str:
    """Sign the pass into its QR text with the current key (pass it in when signing many)."""
    key = key or keyring.current_signer(session=session, vault=rt.vault)
    claims = PassClaims(
        pass_id=str(p.id), holder=p.person.name_masked, id_last4=p.person.id_last4,
        purpose=p.purpose, valid_from=int(p.valid_from.timestamp()),
        valid_until=int(p.valid_until.timestamp()), issued_at=int(utcnow().timestamp()),
        areas=tuple(p.areas), sites=tuple(p.sites), plate=p.plate, companions=p.companions,
    )
    text = encode_pass(claims, key)
    if p.id is None:  # the ciphertext is bound to the row's id: it must exist first
        p.id = uuid7()
    p.token_enc = seal_text(rt.vault, p.id, text)
    p.kid = key.kid.hex()
    return text


def seal_text(vault: PiiVault, pass_id: uuid.UUID, text: str) -> bytes:
    """Encrypt a pass text for the `token_enc` column of the pass `pass_id` (bulk inserts
    pass the value in; `sign` sets it)."""
    return vault.encrypt(text, ad=Pass.pii_ad_for("token_enc", {"id": pass_id}))


def pass_text(*, vault: PiiVault, p: Pass) -> str | None:
    """The signed pass text, decrypted: a bearer credential, for its holder's eyes only
    (callers check authz.is_holder, or that the actor is the inviter of a visitor pass)."""
    return vault.read(p, "token_enc") if p.token_enc is not None else None


def approve(*, session: Session, rt: Runtime, actor: Principal, pass_id: uuid.UUID,
            reason: str = "", key: SigningKey | None = None) -> Pass:
    """Approve a pending pass and sign it (pass the key in when approving many)."""
    p = _pending_for_review(session, actor, pass_id)
    if p.valid_until <= utcnow():
        raise InvalidState("The pass's validity window is already over; reject it instead.")
    p.status, p.decided_by, p.decided_at = "approved", actor.user_id, utcnow()
    p.decision_reason = reason or None
    sign(session=session, rt=rt, p=p, key=key)
    audit_service.record(session=session, actor=actor, action="pass.approve",
                         resource_type="pass", resource_id=p.id, subject_person_id=p.person_id,
                         reason=reason or None, detail={"kid": p.kid})
    # The applicant is told (issue 15: a decision nobody hears of is no decision).
    coercion.tell_person(
        session=session, settings=rt.settings, person_id=p.person_id, kind="pass_approved",
        text=N_("Your pass was approved. Open it to show the code at checkpoints."),
        key=f"pass-approved:{p.id}", link=f"/passes/{p.id}")
    return p


def _need_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationFailed("Please give a reason.", fields={"reason": "Please give a reason."})
    return reason


def reject(*, session: Session, actor: Principal, pass_id: uuid.UUID, reason: str,
           settings: Settings | None = None) -> Pass:
    """Reject a pending pass with a reason the applicant will read (in-app, and through the
    outbox to the webhook gateway when `settings` names one)."""
    reason = _need_reason(reason)
    p = _pending_for_review(session, actor, pass_id)
    p.status, p.decided_by, p.decided_at, p.decision_reason = (
        "rejected", actor.user_id, utcnow(), reason)
    audit_service.record(session=session, actor=actor, action="pass.reject",
                         resource_type="pass", resource_id=p.id, subject_person_id=p.person_id,
                         reason=reason)
    coercion.tell_person(
        session=session, settings=settings, person_id=p.person_id, kind="pass_rejected",
        text=N_("Your pass application was rejected: %(reason)s"), params={"reason": reason},
        key=f"pass-rejected:{p.id}", link=f"/passes/{p.id}")
    return p


def revoke(*, session: Session, actor: Principal, pass_id: uuid.UUID, reason: str,
           reason_code: str | None = None, settings: Settings | None = None) -> Pass:
    """Revoke a pass (or let its holder withdraw it); signed ones join the revocation list.

    An official's revocation is coercive: it needs a reason code and text, tells the
    holder and can be appealed. The holder withdrawing their own pass needs neither.
    """
    p = get_visible(session=session, actor=actor, pass_id=pass_id, for_update=True)
    if not authz.can_revoke(actor, p):
        raise Forbidden("You may not revoke this pass.")
    if authz.is_holder(actor, p):
        return revoke_authorized(session=session, actor=actor, p=p, reason=reason)
    return revoke_authorized(session=session, actor=actor, p=p, reason=reason,
                             reason_code=reason_code, settings=settings, coercive=True)


def revoke_authorized(*, session: Session, actor: Principal, p: Pass, reason: str,
                      reason_code: str | None = None, settings: Settings | None = None,
                      coercive: bool = False) -> Pass:
    """Revoke a pass whose revocation the caller's own domain has authorized.

    A compound revokes the household and visitor passes it issued (a resident moved
    out, a visit was called off) without its manager being a pass official. Coercive
    revocations need a reason from the list, record who did it and tell the holder.
    """
    if coercive:
        reason_code, reason = coercion.check_reason(reason_code, reason)
    else:
        reason = _need_reason(reason)
    if p.status not in ("pending", "approved"):
        raise InvalidState("Only a pending or approved pass can be revoked.")
    was_signed = p.status == "approved"
    now = utcnow()
    p.status, p.revoked_at, p.revoke_reason = "revoked", now, reason
    if coercive:
        p.revoke_reason_code, p.revoked_by = reason_code, actor.user_id
    if was_signed:
        # Race: checkpoints fetch the list incrementally ("after version N"). Two
        # revocations at once take versions 5 and 6 from the sequence; if 6 commits
        # first and a checkpoint syncs up to 6, version 5 commits later and that
        # checkpoint never asks for it (a revoked pass keeps opening gates offline).
        # Versions are therefore taken and committed one revocation at a time.
        serialize(session, "pass_revocations.version")
        session.add(Revocation(pass_id=p.id, revoked_at=now, expires_at=p.valid_until))
    session.flush()
    detail: dict[str, object] = {"by_holder": authz.is_holder(actor, p)}
    if coercive:
        detail["reason_code"] = reason_code
        coercion.tell_person(
            session=session, settings=settings, person_id=p.person_id, kind="pass_revoked",
            text=N_("Your pass was revoked: %(reason)s. You may appeal from the pass page."),
            params={"reason": reason}, key=f"pass-revoked:{p.id}", link=f"/passes/{p.id}")
    audit_service.record(session=session, actor=actor, action="pass.revoke",
                         resource_type="pass", resource_id=p.id, subject_person_id=p.person_id,
                         reason=reason, detail=detail)
    return p


def page(session: Session, stmt: Select[Pass], cursor: str | None,
          limit: int) -> tuple[list[Pass], str | None]:
    # Newest first: ids are time-ordered UUIDv7, so the id alone is the sort key.
    return paginate_query(session, stmt, [Pass.id], cursor=cursor, limit=limit,
                          descending=True)


def list_mine(*, session: Session, actor: Principal, cursor: str | None = None,
              limit: int = 50) -> tuple[list[Pass], str | None]:
    """List the actor's own passes, newest first."""
    if actor.person_id is None:
        return [], None
    return page(session, select(Pass).where(Pass.person_id == actor.person_id), cursor, limit)


def review_scope(actor: Principal, stmt: Select[Pass]) -> Select[Pass]:
    scopes = actor.area_scopes("pass.view_scope")
    if scopes is not None and not scopes:
        raise Forbidden("Your account has no jurisdiction over passes.")
    if scopes is not None:
        stmt = stmt.where(or_(*[Pass.area_prefix.startswith(s, autoescape=True)
                                for s in scopes]))
    return stmt


def count_for_review(*, session: Session, actor: Principal) -> int:
    """Count the pending passes in the actor's jurisdiction."""
    stmt = review_scope(actor, select(Pass).where(Pass.status == "pending"))
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def revocations_since(*, session: Session, since: int, limit: int = 5000) -> dict[str, object]:
    """Return revocations after a list version, skipping passes that expired anyway."""
    now = utcnow()
    rows = list(session.scalars(select(Revocation).where(
        Revocation.version > since, Revocation.expires_at > now
    ).order_by(Revocation.version).limit(limit)))
    latest = session.scalar(select(Revocation.version).order_by(
        Revocation.version.desc()).limit(1)) or 0
    version = rows[-1].version if len(rows) == limit else max(latest, since)
    return {"version": version, "since": since, "complete": len(rows) < limit,
            "revoked": [{"pass_id": str(r.pass_id), "version": r.version,
                         "revoked_at": int(r.revoked_at.timestamp()),
                         "expires_at": int(r.expires_at.timestamp())} for r in rows]}




def signed_revocations(*, session: Session, rt: Runtime, since: int) -> dict[str, object]:
    """Return the revocations after a version, plus the same list signed by the
    revocation-list key (which the root-signed trust list names)."""
    listing = revocations_since(session=session, since=since)
    root = keyring.list_signer(session=session, vault=rt.vault)
    listing["signed"] = sign_revocation_list(
        listing["revoked"], root, version=int(listing["version"]),  # type: ignore[arg-type,call-overload]
        issued_at=int(utcnow().timestamp()), since=since, complete=bool(listing["complete"]))
    return listing
