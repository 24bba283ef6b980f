"""Run Alembic migrations from code (the CLI and tests use this)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

if TYPE_CHECKING:
    from passtrace.core.pii import PiiVault

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """Build an Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine, revision: str = "head", vault: PiiVault | None = None) -> None:
    """Bring the schema up to a revision (`vault`: the keys data migrations encrypt with;
    by default the ones the environment configures)."""
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        cfg.attributes["vault"] = vault
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str, vault: PiiVault | None = None) -> None:
    """Take the schema down to a revision."""
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        cfg.attributes["vault"] = vault
        command.downgrade(cfg, revision)


def data_vault(cfg: Config) -> PiiVault:
    """The personal-data keys a data migration encrypts with: those the caller passed,
    else the ones configured in the environment (what the server would use)."""
    vault = cfg.attributes.get("vault")
    if vault is not None:
        return vault
    from passtrace.core.config import Settings
    from passtrace.core.pii import PiiVault

    settings = Settings()
    return PiiVault(settings.pii_encryption_key, hash_secret=settings.pii_lookup_key,
                    previous=settings.pii_previous_key_list,
                    wrap_secret=settings.signing_wrap_key)
