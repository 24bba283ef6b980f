"""passtrace keys: pass-signing keys, the trust-list root key, personal-data keys.

The root key is read here only, from its file (`PASSTRACE_TRUST_ROOT_KEY_FILE`, or
`--root-key`): the server never holds it. Commands that change which pass keys are
trusted (rotate, retire, revoke) sign a new trust list when the root file is at hand,
and otherwise say that `passtrace keys sign-trust-list` must run where it is.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime

if TYPE_CHECKING:
    from passtrace.codec import SigningKey

app = typer.Typer(no_args_is_help=True)
console = Console()

RootOption = Annotated[Path | None, typer.Option(
    "--root-key", help="the trust-root private key file (default: "
                       "PASSTRACE_TRUST_ROOT_KEY_FILE)")]


def _runtime() -> Runtime:
    from passtrace.cli.main import _runtime as build

    return build()


def _root_path(rt: Runtime, given: Path | None) -> Path | None:
    return given or rt.settings.trust_root_path


def _interactive() -> bool:
    """Whether someone at a terminal can type the passphrase."""
    return sys.stdin.isatty()


def _passphrase(rt: Runtime, path: Path, *, new: bool = False) -> bytes | None:
    """The trust-root file's passphrase: PASSTRACE_TRUST_ROOT_PASSPHRASE (or its _FILE),
    else asked at the terminal when the file is encrypted (or about to be written)."""
    if rt.settings.trust_root_passphrase:
        return rt.settings.trust_root_passphrase.encode()
    from passtrace.passes import trust_root

    if (new or trust_root.is_encrypted(path)) and _interactive():
        typed = typer.prompt("Passphrase of the trust-root key", hide_input=True,
                             confirmation_prompt=new, default="", show_default=False)
        return typed.encode() if typed else None
    return None


def _load_root(rt: Runtime, path: Path, passphrase: bytes | None = None) -> SigningKey:
    from passtrace.passes import trust_root

    root = trust_root.load(path, passphrase or _passphrase(rt, path))
    if not trust_root.is_encrypted(path):
        console.print(f"[yellow]{path} is not encrypted: protect it with a passphrase "
                      "(see docs/security.md).[/yellow]")
    return root


def _resign(session: Session, rt: Runtime, root_key: Path | None) -> None:
    """Sign a new trust list after the trusted keys changed, if the root file is here."""
    from passtrace.passes import trust_root

    path = _root_path(rt, root_key)
    if path is None or not path.exists():
        console.print("[yellow]The trust list checkpoints hold is now out of date: run "
                      "`passtrace keys sign-trust-list` where the trust-root key is.[/yellow]")
        return
    record = trust_root.sign(session=session, vault=rt.vault, root=_load_root(rt, path),
                             actor=None)
    console.print(f"trust list {record.version} signed")


def _errors() -> AbstractContextManager[None]:
    from passtrace.cli.main import _domain_errors

    return _domain_errors()


@app.command("rotate")
def rotate(
    alg: Annotated[str, typer.Option(help="ES256 (default: smallest QR, verifiable in any "
                                          "browser), EdDSA, or PS256 (QR grows to ~version 15)")]
    = "ES256",
    retire_old: Annotated[bool, typer.Option(help="retire the previous keys now")] = False,
    root_key: RootOption = None,
) -> None:
    """Add a new signing key; older keys keep verifying their passes."""
    from passtrace.passes import keyring

    rt = _runtime()
    with _errors():
        for session in session_scope(rt.sessions):
            keyring.ensure(session=session, vault=rt.vault)
            record = keyring.rotate(session=session, vault=rt.vault, actor=None, alg=alg,
                                    retire_old=retire_old)
            kid = record.kid
            _resign(session, rt, root_key)
    console.print(f"[green]new signing key {kid} ({alg})[/green]")


@app.command("list")
def list_keys() -> None:
    """List signing keys with their status."""
    from passtrace.passes import keyring

    rt = _runtime()
    table = Table("kid", "alg", "purpose", "status", "created", "verifies until")
    for session in session_scope(rt.sessions):
        for k in keyring.list_keys(session=session):
            table.add_row(k.kid, k.alg, k.purpose, k.status, k.created_at.isoformat(" ", "seconds"),
                          k.verify_until.isoformat(" ", "seconds") if k.verify_until else "")
    console.print(table)


@app.command("retire")
def retire(kid: str, root_key: RootOption = None) -> None:
    """Stop signing with a key; it verifies until its last pass expires."""
    from passtrace.passes import keyring

    rt = _runtime()
    with _errors():
        for session in session_scope(rt.sessions):
            keyring.retire(session=session, actor=None, kid=kid)
            _resign(session, rt, root_key)
    console.print(f"[green]retired {kid}[/green]")


@app.command("revoke")
def revoke(
    kid: str,
    reason: Annotated[str, typer.Option(help="why (audited; shown to every holder)")],
    root_key: RootOption = None,
) -> None:
    """Emergency: distrust a leaked key at once and revoke every pass it signed."""
    from passtrace.passes import keyring

    rt = _runtime()
    with _errors():
        for session in session_scope(rt.sessions):
            count = keyring.revoke(session=session, actor=None, kid=kid, reason=reason)
            _resign(session, rt, root_key)
    console.print(f"[green]revoked {kid}: {count} passes revoked[/green]")


@app.command("sign-trust-list")
def sign_trust_list(
    root_key: RootOption = None,
    generate: Annotated[bool, typer.Option(
        "--generate", help="first setup: create the root key file if it does not exist")]
    = False,
) -> None:
    """Sign the keys trusted now with the trust-root key; the server publishes the list."""
    from passtrace.passes import trust_root

    rt = _runtime()
    path = _root_path(rt, root_key)
    if path is None:
        console.print("[red]Name the trust-root key file: --root-key FILE or "
                      "PASSTRACE_TRUST_ROOT_KEY_FILE.[/red]")
        raise typer.Exit(2)
    with _errors():
        passphrase = None
        if generate and not path.exists():
            passphrase = _passphrase(rt, path, new=True)
            if passphrase is None and rt.settings.env == "prod":
                console.print("[red]A production trust-root key needs a passphrase: set "
                              "PASSTRACE_TRUST_ROOT_PASSPHRASE (or its _FILE), or run this "
                              "at a terminal.[/red]")
                raise typer.Exit(2)
            trust_root.load_or_generate(path, passphrase)
        root = _load_root(rt, path, passphrase)
        for session in session_scope(rt.sessions):
            record = trust_root.sign(session=session, vault=rt.vault, root=root, actor=None)
            version, count = record.version, len(record.listing["keys"])
    console.print(f"[green]trust list {version} signed by root {root.kid.hex()}: "
                  f"{count} pass keys[/green]")


@app.command("rotate-list")
def rotate_list(root_key: RootOption = None) -> None:
    """Replace the online revocation-list key; the root signs a trust list naming it."""
    from passtrace.passes import keyring, trust_root

    rt = _runtime()
    path = _root_path(rt, root_key)
    if path is None:
        # Without the root the new key would sign revocation lists no checkpoint trusts.
        console.print("[red]Name the trust-root key file: --root-key FILE or "
                      "PASSTRACE_TRUST_ROOT_KEY_FILE.[/red]")
        raise typer.Exit(2)
    overlap = timedelta(hours=rt.settings.list_key_overlap_hours)
    with _errors():
        root = _load_root(rt, path)  # before anything changes: a wrong passphrase stops here
        for session in session_scope(rt.sessions):
            record = keyring.rotate_list(session=session, vault=rt.vault, actor=None,
                                         overlap=overlap)
            listing = trust_root.sign(session=session, vault=rt.vault, root=root, actor=None)
            kid, version = record.kid, listing.version
    console.print(f"[green]new list key {kid}; trust list {version} signed. The old key "
                  f"verifies the lists it signed for {rt.settings.list_key_overlap_hours} "
                  "h more.[/green]")


@app.command("export-root")
def export_root(file: Path) -> None:
    """Upgrade: move the trust-root key from the database to FILE (0600) and delete it there."""
    from passtrace.passes import trust_root

    rt = _runtime()
    with _errors():
        for session in session_scope(rt.sessions):
            root = trust_root.export_from_database(
                session=session, vault=rt.vault, path=file, actor=None,
                passphrase=_passphrase(rt, file, new=True))
    console.print(f"[green]root key {root.kid.hex()} written to {file}; the database no "
                  "longer holds it. Keep the file offline and set "
                  "PASSTRACE_TRUST_ROOT_KEY_FILE where trust lists are signed.[/green]")


@app.command("rotate-pii")
def rotate_pii() -> None:
    """Re-encrypt personal data and signing keys under the current keys, bound to their rows."""
    from rich.progress import Progress

    from passtrace.audit import service as audit_service
    from passtrace.cli import pii_keys

    rt = _runtime()
    with _errors(), Progress(console=console) as progress, rt.engine.connect() as conn:
        report = pii_keys.rotate(conn, rt.vault, progress)
    for session in session_scope(rt.sessions):
        audit_service.record(session=session, actor=None, action="pii.rotate",
                             resource_type="pii_key", resource_id=rt.vault.current_kid,
                             detail={"rewritten": report.rewritten})
    console.print(f"[green]{report.total} values now under key {rt.vault.current_kid}[/green]")
