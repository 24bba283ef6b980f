"""The long-lived objects one deployment needs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from passtrace.core.config import Settings
from passtrace.core.db import make_engine, make_sessionmaker
from passtrace.core.pii import PiiVault
from passtrace.core.security import LoginRateLimiter, PasswordService


@dataclass
class Runtime:
    """Settings plus the engine, session factory, vault and password hasher."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: PiiVault
    passwords: PasswordService
    login_limiter: LoginRateLimiter
    cache: dict[str, object] = field(default_factory=dict)

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
            login_limiter=LoginRateLimiter(
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_window_seconds,
            ),
        )
