"""Pass-signing keys and the revocation-list key: create, rotate, retire, revoke.

The trust-list root key is not here: it stays out of the database (passes/trust_root.py).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.serialization import load_der_public_key
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.codec import SigningKey, TrustStore
from passtrace.core.clock import utcnow
from passtrace.core.db import locked, serialize
from passtrace.core.errors import InvalidState, NotFound, ValidationFailed
from passtrace.core.pii import PiiVault
from passtrace.core.security import Principal
from passtrace.passes.models import Pass, Revocation, SigningKeyRecord

ALGS = ("ES256", "ES384", "ES512", "EdDSA", "PS256")


def _store(session: Session, vault: PiiVault, key: SigningKey, purpose: str) -> SigningKeyRecord:
    kid = key.kid.hex()
    record = SigningKeyRecord(kid=kid, alg=key.alg, purpose=purpose,
                              private_enc=vault.wrap(key.private_pem().decode(),
                                                     ad=SigningKeyRecord.pii_ad_for(
                                                         "private_enc", {"kid": kid})),
                              public_der=key.public_der(), status="active")
    session.add(record)
    session.flush()
    return record


def load_key(vault: PiiVault, record: SigningKeyRecord) -> SigningKey:
    """Unwrap a stored key's private half."""
    return SigningKey.from_pem(
        vault.unwrap(record.private_enc, ad=record.pii_ad("private_enc")).encode())


def list_keys(*, session: Session) -> list[SigningKeyRecord]:
    """List every key, newest first."""
    return list(session.scalars(select(SigningKeyRecord).order_by(
        SigningKeyRecord.created_at.desc(), SigningKeyRecord.kid)))


# Name of the lock that makes key changes (create, rotate, retire) one at a time.
KEYRING_LOCK = "signing_keys"


def _active_kid(session: Session, purpose: str) -> str | None:
    return session.scalar(select(SigningKeyRecord.kid).where(
        SigningKeyRecord.purpose == purpose, SigningKeyRecord.status == "active").limit(1))


def ensure(*, session: Session, vault: PiiVault) -> None:
    """Create the first pass key and the revocation-list key if missing."""
    for purpose in ("pass", "list"):
        if _active_kid(session, purpose) is None:
            # Race: two first requests on a fresh deployment each made a list key, and
            # the trust list could name only one. Checked again under the keyring lock
            # (taken only when a key is missing: signing never waits for it).
            serialize(session, KEYRING_LOCK)
            if _active_kid(session, purpose) is not None:
                continue
            record = _store(session, vault, SigningKey.generate("ES256"), purpose)
            audit_service.record(session=session, actor=None, action="key.create",
                                 resource_type="signing_key", resource_id=record.kid,
                                 detail={"purpose": purpose, "alg": record.alg})


def rotate(
    *, session: Session, vault: PiiVault, actor: Principal | None, alg: str = "ES256",
    retire_old: bool = False,
) -> SigningKeyRecord:
    """Add a new signing key; it signs from now on. Older keys keep verifying."""
    if alg not in ALGS:
        raise ValidationFailed("Unknown signature algorithm %(alg)s.", alg=alg)
    # Race: two rotations with retire_old at once each retired only the key they saw,
    # leaving both new keys active. Rotations run one at a time, each seeing the last.
    serialize(session, KEYRING_LOCK)
    old = [k for k in session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "pass", SigningKeyRecord.status == "active")
        .execution_options(populate_existing=True))]
    record = _store(session, vault, SigningKey.generate(alg), "pass")
    audit_service.record(session=session, actor=actor, action="key.rotate",
                         resource_type="signing_key", resource_id=record.kid,
                         detail={"alg": alg, "retire_old": retire_old})
    if retire_old:
        for k in old:
            retire(session=session, actor=actor, kid=k.kid)
    return record


def retire(*, session: Session, actor: Principal | None, kid: str) -> SigningKeyRecord:
    """Stop signing with a key; it verifies until the last pass it signed expires."""
    # Race: retiring twice at once (or during a rotation) computed verify_until twice.
    record = locked(session, SigningKeyRecord, kid)
    if record is None or record.purpose != "pass":
        raise NotFound("No signing key %(kid)s.", kid=kid)
    if record.status != "active":
        raise InvalidState("Key %(kid)s is already retired.", kid=kid)
    last_expiry = session.scalar(select(func.max(Pass.valid_until)).where(
        Pass.kid == kid, Pass.status == "approved"))
    now = utcnow()
    record.status = "retired"
    record.retired_at = now
    record.verify_until = max(last_expiry, now) if last_expiry else now
    audit_service.record(session=session, actor=actor, action="key.retire",
                         resource_type="signing_key", resource_id=kid,
                         detail={"verify_until": record.verify_until.isoformat()})
    return record


def revoke(*, session: Session, actor: Principal | None, kid: str, reason: str) -> int:
    """Emergency revocation of a leaked key: trusted by nobody from now on, and every pass
    it signed revoked (so it joins the revocation list). Returns how many passes.

    Checkpoints drop the key with their next trust list; until then the revocation list
    already refuses its passes.
    """
    reason = " ".join(reason.split())
    if len(reason) < 4:
        raise ValidationFailed("Give a reason (at least 4 characters).")
    # Two officials revoking at once: the key row is locked, so the second one waits and
    # then finds it revoked instead of revoking its passes twice.
    record = session.get(SigningKeyRecord, kid, with_for_update=True)
    if record is None or record.purpose != "pass":
        raise NotFound("No signing key %(kid)s.", kid=kid)
    if record.status == "revoked":
        raise InvalidState("Key %(kid)s is already revoked.", kid=kid)
    now = utcnow()
    record.status = "revoked"
    record.retired_at = record.retired_at or now
    record.verify_until = now  # out of verifying_keys(), so out of the trust list
    # Locked too: a holder withdrawing a pass at the same moment must not revoke it twice.
    # A pass approved under this key after this point never verifies (its kid is gone).
    passes = list(session.scalars(select(Pass).where(
        Pass.kid == kid, Pass.status == "approved").with_for_update()))
    for p in passes:
        p.status, p.revoked_at, p.revoke_reason = "revoked", now, reason
        session.add(Revocation(pass_id=p.id, revoked_at=now, expires_at=p.valid_until))
    session.flush()
    audit_service.record(session=session, actor=actor, action="key.revoke",
                         resource_type="signing_key", resource_id=kid, reason=reason,
                         detail={"passes_revoked": len(passes)})
    # Each holder sees in "who viewed my data" why their pass stopped working.
    audit_service.record_many(session=session, actor=actor, entries=[{
        "action": "pass.revoke", "resource_type": "pass", "resource_id": p.id,
        "subject_person_id": p.person_id, "reason": reason, "detail": {"key_revoked": kid},
    } for p in passes])
    return len(passes)


def current_signer(*, session: Session, vault: PiiVault) -> SigningKey:
    """Return the newest active pass key (creating one on a fresh deployment)."""
    # Race: retire() computes how long a key must keep verifying from the passes it
    # signed; a pass signed while it runs would be missed and stop verifying before
    # it expires. Signers hold a shared lock on the key row (PostgreSQL FOR SHARE:
    # signers never wait for each other) until commit, and retire() locks it
    # exclusively, so it waits for them and counts their passes.
    for _ in range(2):
        ensure(session=session, vault=vault)
        record = session.scalars(select(SigningKeyRecord).where(
            SigningKeyRecord.purpose == "pass", SigningKeyRecord.status == "active"
        ).order_by(SigningKeyRecord.created_at.desc()).limit(1)
            .with_for_update(read=True)).first()
        if record is not None:
            return load_key(vault, record)
        # Retired while this waited for the lock: ensure() makes or finds the next one.
    raise InvalidState("No signing key is active; try again.")


def list_signer(*, session: Session, vault: PiiVault) -> SigningKey:
    """Return the key that signs revocation lists (named in the signed trust list)."""
    ensure(session=session, vault=vault)
    record = session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "list", SigningKeyRecord.status == "active"
    ).order_by(SigningKeyRecord.created_at.desc())).first()
    assert record is not None
    return load_key(vault, record)


def rotate_list(*, session: Session, vault: PiiVault, actor: Principal | None,
                overlap: timedelta) -> SigningKeyRecord:
    """A new revocation-list key signs from now on; the old one is retired but stays in
    the trust list for `overlap`, so lists it signed still verify until replaced.

    The caller signs a new trust list in the same transaction (the root names the key);
    otherwise checkpoints would refuse lists signed by a key they were never told about.
    """
    # Race: two rotations at once each retired only the key they saw, leaving two active
    # list keys; the keyring lock makes them one at a time.
    serialize(session, KEYRING_LOCK)
    ensure(session=session, vault=vault)
    old = list(session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "list", SigningKeyRecord.status == "active")
        .execution_options(populate_existing=True)))
    record = _store(session, vault, SigningKey.generate("ES256"), "list")
    now = utcnow()
    for k in old:
        k.status, k.retired_at, k.verify_until = "retired", now, now + overlap
    session.flush()
    audit_service.record(session=session, actor=actor, action="key.rotate",
                         resource_type="signing_key", resource_id=record.kid,
                         detail={"purpose": "list", "retired": [k.kid for k in old],
                                 "verify_until": (now + overlap).isoformat()})
    return record


def previous_list_keys(*, session: Session, now: datetime | None = None
                       ) -> list[dict[str, object]]:
    """Retired list keys whose lists may still be about, with when to stop trusting them."""
    now = now or utcnow()
    rows = session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "list", SigningKeyRecord.status == "retired",
        SigningKeyRecord.verify_until > now).order_by(SigningKeyRecord.created_at.desc(),
                                                      SigningKeyRecord.kid))
    return [{"kid": k.kid, "alg": k.alg,
             "public_key_der_b64": base64.b64encode(k.public_der).decode(),
             "not_after": int(k.verify_until.timestamp())} for k in rows
            if k.verify_until is not None]


def list_key_entry(*, session: Session) -> dict[str, object] | None:
    """The revocation-list key as a trust list names it (None before ensure())."""
    record = session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "list", SigningKeyRecord.status == "active"
    ).order_by(SigningKeyRecord.created_at.desc())).first()
    if record is None:
        return None
    return {"kid": record.kid, "alg": record.alg,
            "public_key_der_b64": base64.b64encode(record.public_der).decode()}


def verifying_keys(*, session: Session, now: datetime | None = None) -> list[SigningKeyRecord]:
    """List the pass keys a checkpoint should trust now: active, and retired still in use."""
    now = now or utcnow()
    return [k for k in list_keys(session=session) if k.purpose == "pass" and (
        k.status == "active" or (k.verify_until is not None and k.verify_until > now))]


def trust_store(*, session: Session) -> TrustStore:
    """Build the verification trust store from the database."""
    store = TrustStore()
    for k in verifying_keys(session=session):
        not_after = int(k.verify_until.timestamp()) if k.status == "retired" and k.verify_until \
            else None
        store.add(load_der_public_key(k.public_der), kid=bytes.fromhex(k.kid),
                  not_after=not_after, retired_at=_retired_at(k))
    return store


def trust_list_entries(*, session: Session) -> list[dict[str, object]]:
    """Describe the trusted keys as published to checkpoints."""
    return [{
        "kid": k.kid, "alg": k.alg,
        "public_key_der_b64": base64.b64encode(k.public_der).decode(),
        "not_after": int(k.verify_until.timestamp())
        if k.status == "retired" and k.verify_until else None,
        "retired_at": _retired_at(k),
    } for k in verifying_keys(session=session)]


def _retired_at(k: SigningKeyRecord) -> int | None:
    """When a key stopped signing, for the trust list; a pass it minted later is refused."""
    # Truncated like a pass's iat, so a pass signed before retirement always verifies.
    return int(k.retired_at.timestamp()) if k.status == "retired" and k.retired_at else None
