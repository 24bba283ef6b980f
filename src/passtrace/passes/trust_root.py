"""The trust-list root key: kept in a file, never in the database, never in the server.

Checkpoints pin the root's public key and trust only pass keys a root-signed trust list
names. Whoever holds the root private key decides which keys are trusted, so it lives in
a file (`PASSTRACE_TRUST_ROOT_KEY_FILE`) read only by the commands that sign trust lists
(`passtrace keys sign-trust-list`, and `rotate`, `retire`, `revoke` when the file is at
hand). The signed list is stored in `trust_lists`; the server publishes the newest one.
Only demo and test let the server re-sign a stale list itself, with a root generated in
their data dir.
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.codec import SigningKey, sign_trust_list
from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.db import serialize
from passtrace.core.errors import InvalidState, NotFound, Unavailable
from passtrace.core.pii import PiiVault
from passtrace.core.security import Principal
from passtrace.passes import keyring
from passtrace.passes.models import SigningKeyRecord, TrustListRecord

# One signer at a time, so versions grow in the order lists are stored.
SIGN_LOCK = "trust_lists"


def write_key_file(path: Path, key: SigningKey, passphrase: bytes | None = None) -> None:
    """Write a private key readable by its owner only, encrypted under `passphrase` when
    one is given (PKCS#8); never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_pem(passphrase))


def is_encrypted(path: Path) -> bool:
    """Whether the key file needs a passphrase (an encrypted PKCS#8 PEM)."""
    try:
        return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in path.read_bytes()[:200]
    except FileNotFoundError:
        return False


def load(path: Path, passphrase: bytes | None = None) -> SigningKey:
    """Read the root private key from its file (decrypting it when it is encrypted)."""
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise NotFound("No trust-root key file at %(path)s.", path=str(path)) from None
    encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem[:200]
    if encrypted and not passphrase:
        raise InvalidState("%(path)s is encrypted: give its passphrase "
                           "(PASSTRACE_TRUST_ROOT_PASSPHRASE or its _FILE, or type it when "
                           "asked).", path=str(path))
    try:
        return SigningKey.from_pem(pem, passphrase if encrypted else None)
    except ValueError:
        if encrypted:  # cryptography says "bad decrypt" or "Could not deserialize"
            raise InvalidState("The passphrase does not open %(path)s.",
                               path=str(path)) from None
        raise InvalidState("%(path)s does not hold a private key.", path=str(path)) from None


def load_or_generate(path: Path, passphrase: bytes | None = None) -> SigningKey:
    """The root key at `path`, generated there first if missing (demo, test, first setup)."""
    if not path.exists():
        # Another process may make it first: use theirs.
        with contextlib.suppress(FileExistsError):
            write_key_file(path, SigningKey.generate("ES256"), passphrase)
    return load(path, passphrase)


def newest(*, session: Session) -> TrustListRecord | None:
    """The newest signed trust list."""
    return session.scalars(select(TrustListRecord).order_by(
        TrustListRecord.version.desc()).limit(1)).first()


def _unsigned(session: Session) -> dict[str, Any]:
    out = {"keys": keyring.trust_list_entries(session=session),
           "revocation_key": keyring.list_key_entry(session=session)}
    previous = keyring.previous_list_keys(session=session)
    if previous:  # only after a list-key rotation, so older stored lists stay current
        out["previous_revocation_keys"] = previous
    return out


def is_stale(*, session: Session, record: TrustListRecord | None) -> bool:
    """Whether the keys trusted now differ from what the newest signed list says."""
    if record is None:
        return True
    now = _unsigned(session)
    names = set(now) | {"previous_revocation_keys"}
    return any(record.listing.get(name) != now.get(name) for name in names)


def sign(*, session: Session, vault: PiiVault, root: SigningKey,
         actor: Principal | None) -> TrustListRecord:
    """Sign the keys trusted now with the root key and store the list for the server."""
    keyring.ensure(session=session, vault=vault)
    # Race: two signers (the operator's command and a `keys rotate`) read the same last
    # version and computed the same next one; one failed on the unique version. The
    # second now waits for the first and signs the version after it.
    serialize(session, SIGN_LOCK)
    last = newest(session=session)
    if last is not None and last.root_kid != root.kid.hex():
        # Checkpoints pinned the old root: a list signed by another key would be refused
        # by every one of them.
        raise InvalidState("This is not the trust-root key checkpoints hold (%(kid)s).",
                           kid=last.root_kid)
    unsigned = _unsigned(session)
    now = int(utcnow().timestamp())
    version = max(now, last.version + 1) if last is not None else now
    doc = sign_trust_list(unsigned["keys"], root, version=version, issued_at=now,
                          revocation_key=unsigned["revocation_key"],
                          previous_revocation_keys=unsigned.get("previous_revocation_keys"))
    record = TrustListRecord(version=version, root_kid=root.kid.hex(), root_alg=root.alg,
                             root_public_der=root.public_der(),
                             listing={"version": version, "issued_at": now, **unsigned,
                                      "signed": doc})
    session.add(record)
    session.flush()
    audit_service.record(session=session, actor=actor, action="trust_list.sign",
                         resource_type="trust_list", resource_id=str(version),
                         detail={"root": record.root_kid,
                                 "keys": [k["kid"] for k in unsigned["keys"]]})
    return record


def published(*, session: Session, vault: PiiVault, settings: Settings) -> TrustListRecord:
    """The list the server publishes: the newest signed one.

    Demo and test re-sign it when the keys changed since (their root is a file in their
    data dir); a real deployment publishes what the root holder last signed.
    """
    record = newest(session=session)
    if settings.signs_trust_lists_itself and is_stale(session=session, record=record):
        path = settings.trust_root_path
        assert path is not None  # demo and test always have one
        passphrase = settings.trust_root_passphrase
        record = sign(session=session, vault=vault, actor=None, root=load_or_generate(
            path, passphrase.encode() if passphrase else None))
    if record is None:
        raise Unavailable("No trust list has been signed yet: an administrator runs "
                          "`passtrace keys sign-trust-list` with the trust-root key.")
    return record


def root_public(record: TrustListRecord) -> dict[str, str]:
    """The root public key checkpoints pin."""
    return {"kid": record.root_kid, "alg": record.root_alg,
            "public_key_der_b64": base64.b64encode(record.root_public_der).decode()}


def export_from_database(*, session: Session, vault: PiiVault, path: Path,
                         actor: Principal | None, passphrase: bytes | None = None
                         ) -> SigningKey:
    """Move the root key an earlier release kept (wrapped) in the database to `path`.

    Writes the file (0600, never over an existing one), signs and stores a trust list
    with it, and deletes every root key row, so the database holds no root private key.
    """
    serialize(session, keyring.KEYRING_LOCK)
    rows = list(session.scalars(select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == "root").order_by(SigningKeyRecord.created_at.desc())))
    active = next((r for r in rows if r.status == "active"), None)
    if active is None:
        raise NotFound("The database holds no trust-root key: nothing to export.")
    root = keyring.load_key(vault, active)
    try:
        write_key_file(path, root, passphrase)
    except FileExistsError:
        raise InvalidState("%(path)s already exists; choose a new file.",
                           path=str(path)) from None
    sign(session=session, vault=vault, root=root, actor=actor)
    session.execute(delete(SigningKeyRecord).where(SigningKeyRecord.purpose == "root"))
    audit_service.record(session=session, actor=actor, action="trust_root.export",
                         resource_type="signing_key", resource_id=active.kid,
                         detail={"deleted_rows": len(rows)})
    return root
