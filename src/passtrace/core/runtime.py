"""The long-lived objects one deployment needs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from passtrace.core.config import Settings
from passtrace.core.db import make_engine, make_sessionmaker
from passtrace.core.pii import PiiVault
from passtrace.core.security import PasswordService, Principal


class PrincipalResolver(Protocol):
    """Turns a bearer token or session cookie into the request's principal.

    accounts owns tokens and users; the web layer only needs these two calls. The
    resolver is set on the Runtime by passtrace.wiring (the app factory calls it),
    so the web toolkit never imports a domain and the domains' pages can import
    the web toolkit.
    """

    def cached(self, *, token: str, ip: str | None) -> Principal | None:
        """The principal behind a token resolved moments ago, with no I/O; else None."""
        ...

    def resolve(self, *, session: Session, token: str, ip: str | None) -> Principal | None:
        """The principal behind a token (None: unknown, expired or revoked)."""
        ...


@dataclass
class Runtime:
    """Settings plus the engine, session factory, vault and password hasher."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: PiiVault
    passwords: PasswordService
    cache: dict[str, object] = field(default_factory=dict)
    # Set by passtrace.wiring.wire(runtime); None until then (web.deps refuses to guess).
    principals: PrincipalResolver | None = None

    @classmethod
    def build(cls, settings: Settings, *, engine: Engine | None = None) -> Runtime:
        """Build the runtime; nothing touches the database here."""
        engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            vault=PiiVault(settings.pii_encryption_key, hash_secret=settings.pii_lookup_key,
                           previous=settings.pii_previous_key_list,
                           wrap_secret=settings.signing_wrap_key),
            passwords=PasswordService(
                time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
            ),
        )
